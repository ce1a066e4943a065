// JSON Schema -> GBNF tests: for each supported keyword, texts the resulting grammar
// must accept and texts it must reject (checked by running the grammar through the
// runtime's byte automaton); integer ranges checked exhaustively over a window around
// their bounds; every unsupported keyword or construct stops with an error naming it
// and its JSON pointer.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "runtime/grammar.h"
#include "runtime/grammar_automaton.h"
#include "server/json_schema_grammar.h"

namespace loom::server {
namespace {

using json = nlohmann::ordered_json;
using runtime::GrammarAutomaton;

// A compiled schema; matches() says whether a whole text is accepted.
class Schema {
public:
    explicit Schema(const std::string& schema_text)
        : gbnf_(json_schema_to_grammar(json::parse(schema_text))),
          automaton_(runtime::Grammar::parse(gbnf_)) {}

    bool matches(std::string_view text) {
        GrammarAutomaton::StateId s = automaton_.initial();
        for (char c : text) {
            s = automaton_.next(s, static_cast<uint8_t>(c));
            if (s == GrammarAutomaton::kDead) return false;
        }
        return automaton_.can_end(s);
    }
    const std::string& gbnf() const { return gbnf_; }

private:
    std::string gbnf_;
    GrammarAutomaton automaton_;
};

// The error converting the schema gives ("" when none).
std::string error_of(const std::string& schema_text, ErrorCode expected) {
    try {
        json_schema_to_grammar(json::parse(schema_text));
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error for " << schema_text;
    return "";
}

TEST(JsonSchemaGrammar, PrimitiveTypes) {
    Schema str(R"({"type": "string"})");
    EXPECT_TRUE(str.matches(R"("hi \"there\" \n \u00e9 é")"));
    EXPECT_FALSE(str.matches(R"("unterminated)"));
    EXPECT_FALSE(str.matches("\"raw\ttab\""));
    EXPECT_FALSE(str.matches(R"("\ud800")"));  // a lone surrogate escape
    Schema num(R"({"type": "number"})");
    for (const char* ok : {"0", "-1", "3.25", "1e10", "-2.5E-3", "10"}) {
        EXPECT_TRUE(num.matches(ok)) << ok;
    }
    for (const char* bad : {"01", "1.", ".5", "+1", "1e", "NaN"}) {
        EXPECT_FALSE(num.matches(bad)) << bad;
    }
    Schema integer(R"({"type": "integer"})");
    EXPECT_TRUE(integer.matches("-42"));
    EXPECT_FALSE(integer.matches("4.2"));
    Schema boolean(R"({"type": "boolean"})");
    EXPECT_TRUE(boolean.matches("true"));
    EXPECT_FALSE(boolean.matches("True"));
    Schema null(R"({"type": "null"})");
    EXPECT_TRUE(null.matches("null"));
    Schema either(R"({"type": ["integer", "null"]})");
    EXPECT_TRUE(either.matches("7"));
    EXPECT_TRUE(either.matches("null"));
    EXPECT_FALSE(either.matches("\"7\""));
}

TEST(JsonSchemaGrammar, AnyValueAndJsonObjectMode) {
    Schema any("{}");
    for (const char* ok : {"1", "\"s\"", "[1, {\"a\": [null]}]", "{\"k\": false}"}) {
        EXPECT_TRUE(any.matches(ok)) << ok;
    }
    Schema also_any("true");
    EXPECT_TRUE(also_any.matches("[]"));
    GrammarAutomaton object_only(runtime::Grammar::parse(json_object_grammar()));
    auto matches = [&object_only](std::string_view text) {
        GrammarAutomaton::StateId s = object_only.initial();
        for (char c : text) s = object_only.next(s, static_cast<uint8_t>(c));
        return object_only.can_end(s);
    };
    EXPECT_TRUE(matches(R"({"a": {"b": [1, "x"]}})"));
    EXPECT_TRUE(matches("{}"));
    EXPECT_FALSE(matches("[]"));
    EXPECT_FALSE(matches("1"));
}

TEST(JsonSchemaGrammar, WhitespaceIsOptionalAndLimited) {
    Schema s(R"({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]})");
    EXPECT_TRUE(s.matches(R"({"a":1})"));
    EXPECT_TRUE(s.matches("{\n  \"a\": 1\n}"));
    EXPECT_TRUE(s.matches("{\n\n\t\"a\" : 1 }"));
    EXPECT_FALSE(s.matches("{  \"a\": 1}"));                              // two spaces
    EXPECT_FALSE(s.matches("{\n" + std::string(21, ' ') + "\"a\": 1}"));  // 21 after the line break
    EXPECT_FALSE(s.matches(" {\"a\": 1}"));  // nothing before the value
    EXPECT_FALSE(s.matches("{\"a\": 1} "));  // nor after it
}

TEST(JsonSchemaGrammar, PropertiesInOrderWithAnySubsetOfOptionalOnes) {
    Schema s(R"({"type": "object", "properties": {
        "a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
        "required": ["b"]})");
    EXPECT_TRUE(s.matches(R"({"b": "x"})"));
    EXPECT_TRUE(s.matches(R"({"a": 1, "b": "x"})"));
    EXPECT_TRUE(s.matches(R"({"b": "x", "c": true})"));
    EXPECT_TRUE(s.matches(R"({"a": 1, "b": "x", "c": false})"));
    EXPECT_FALSE(s.matches(R"({})"));  // b is required
    EXPECT_FALSE(s.matches(R"({"a": 1})"));
    EXPECT_FALSE(s.matches(R"({"b": "x", "a": 1})"));  // schema order
    EXPECT_FALSE(s.matches(R"({"b": "x", "d": 1})"));  // no extra properties by default
    EXPECT_FALSE(s.matches(R"({"a": 1, , "b": "x"})"));
    Schema none_required(R"({"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}})");
    EXPECT_TRUE(none_required.matches("{}"));
    EXPECT_TRUE(none_required.matches(R"({"b": 2})"));
    EXPECT_FALSE(none_required.matches(R"({"b": 2,})"));
    // A required name without a declared schema takes any value.
    Schema undeclared(R"({"type": "object", "required": ["id"]})");
    EXPECT_TRUE(undeclared.matches(R"({"id": [1, 2]})"));
    EXPECT_FALSE(undeclared.matches("{}"));
}

TEST(JsonSchemaGrammar, AdditionalProperties) {
    Schema closed(
        R"({"type": "object", "properties": {"a": {"type": "integer"}},
             "additionalProperties": false})");
    EXPECT_FALSE(closed.matches(R"({"a": 1, "b": 2})"));
    Schema open(
        R"({"type": "object", "properties": {"name": {"type": "string"}},
             "additionalProperties": true})");
    EXPECT_TRUE(open.matches(R"({"name": "x", "extra": [1], "more": null})"));
    EXPECT_TRUE(open.matches(R"({"extra": 1})"));
    EXPECT_FALSE(open.matches(R"({"name": "x", "name": "y"})"));  // a declared key is not "extra"
    EXPECT_TRUE(open.matches(R"({"name": "x", "nam": 1, "names": 2, "Name": 3})"));
    Schema typed(R"({"type": "object", "additionalProperties": {"type": "integer"}})");
    EXPECT_TRUE(typed.matches(R"({"x": 1, "y": 2})"));
    EXPECT_FALSE(typed.matches(R"({"x": "1"})"));
}

TEST(JsonSchemaGrammar, EnumAndConst) {
    Schema e(R"({"enum": ["red", "green", 3, null, {"a": [1]}]})");
    EXPECT_TRUE(e.matches(R"("red")"));
    EXPECT_TRUE(e.matches("3"));
    EXPECT_TRUE(e.matches("null"));
    EXPECT_TRUE(e.matches(R"({"a":[1]})"));
    EXPECT_FALSE(e.matches(R"("blue")"));
    Schema typed(R"({"type": "string", "enum": ["a", 1]})");
    EXPECT_TRUE(typed.matches(R"("a")"));
    EXPECT_FALSE(typed.matches("1"));
    Schema c(R"({"const": "fixed"})");
    EXPECT_TRUE(c.matches(R"("fixed")"));
    EXPECT_FALSE(c.matches(R"("other")"));
}

TEST(JsonSchemaGrammar, Arrays) {
    Schema bounded(
        R"({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3})");
    EXPECT_FALSE(bounded.matches("[1]"));
    EXPECT_TRUE(bounded.matches("[1, 2]"));
    EXPECT_TRUE(bounded.matches("[1,2,3]"));
    EXPECT_FALSE(bounded.matches("[1, 2, 3, 4]"));
    EXPECT_FALSE(bounded.matches("[1, \"2\"]"));
    Schema any_items(R"({"type": "array"})");
    EXPECT_TRUE(any_items.matches("[]"));
    EXPECT_TRUE(any_items.matches(R"([1, "a", [null]])"));
    Schema tuple(
        R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
             "minItems": 1})");
    EXPECT_TRUE(tuple.matches(R"(["a"])"));
    EXPECT_TRUE(tuple.matches(R"(["a", 1])"));
    EXPECT_FALSE(tuple.matches(R"([])"));
    EXPECT_FALSE(tuple.matches(R"(["a", 1, 2])"));  // no "items": nothing after the tuple
    EXPECT_FALSE(tuple.matches(R"([1, "a"])"));
    Schema tuple_rest(
        R"({"prefixItems": [{"type": "string"}], "items": {"type": "boolean"}, "maxItems": 3})");
    EXPECT_TRUE(tuple_rest.matches(R"(["a", true, false])"));
    EXPECT_FALSE(tuple_rest.matches(R"(["a", true, false, true])"));
    EXPECT_TRUE(tuple_rest.matches(R"([])"));
    Schema draft7(R"({"items": [{"type": "null"}], "additionalItems": {"type": "integer"}})");
    EXPECT_TRUE(draft7.matches("[null, 1, 2]"));
    EXPECT_FALSE(draft7.matches("[1]"));
    Schema unique_false(R"({"type": "array", "items": {"type": "null"}, "uniqueItems": false})");
    EXPECT_TRUE(unique_false.matches("[null, null]"));
    Schema empty_only(R"({"type": "array", "maxItems": 0})");
    EXPECT_TRUE(empty_only.matches("[]"));
    EXPECT_FALSE(empty_only.matches("[1]"));
}

TEST(JsonSchemaGrammar, NestedObjects) {
    Schema s(R"({"type": "object", "properties": {
        "user": {"type": "object", "properties": {"name": {"type": "string"},
                 "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["name"]}},
        "required": ["user"]})");
    EXPECT_TRUE(s.matches(R"({"user": {"name": "a", "tags": ["x", "y"]}})"));
    EXPECT_FALSE(s.matches(R"({"user": {"tags": []}})"));
}

TEST(JsonSchemaGrammar, AnyOfOneOfAllOf) {
    Schema any_of(R"({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]})");
    EXPECT_TRUE(any_of.matches("5"));
    EXPECT_TRUE(any_of.matches(R"("ab")"));
    EXPECT_FALSE(any_of.matches(R"("abc")"));
    Schema one_of(R"({"oneOf": [{"type": "boolean"}, {"type": "null"}]})");
    EXPECT_TRUE(one_of.matches("null"));
    Schema all_of(R"({"allOf": [
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        {"properties": {"b": {"type": "string"}}, "required": ["b"]}]})");
    EXPECT_TRUE(all_of.matches(R"({"a": 1, "b": "x"})"));
    EXPECT_FALSE(all_of.matches(R"({"a": 1})"));
    Schema all_of_refs(R"({"$defs": {"A": {"properties": {"a": {"type": "integer"}}}},
        "allOf": [{"$ref": "#/$defs/A"}, {"properties": {"z": {"type": "null"}}}]})");
    EXPECT_TRUE(all_of_refs.matches(R"({"a": 1, "z": null})"));
}

TEST(JsonSchemaGrammar, RefsAndRecursion) {
    Schema defs(
        R"({"$defs": {"Point": {"type": "object",
                   "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                   "required": ["x", "y"]}},
        "type": "array", "items": {"$ref": "#/$defs/Point"}})");
    EXPECT_TRUE(defs.matches(R"([{"x": 1, "y": 2.5}])"));
    EXPECT_FALSE(defs.matches(R"([{"x": 1}])"));
    Schema definitions(
        R"({"definitions": {"Name": {"type": "string"}},
             "properties": {"n": {"$ref": "#/definitions/Name"}}})");
    EXPECT_TRUE(definitions.matches(R"({"n": "x"})"));
    Schema tree(R"({"$defs": {"Node": {"type": "object", "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "required": ["value"]}}, "$ref": "#/$defs/Node"})");
    EXPECT_TRUE(tree.matches(
        R"({"value": 1, "children": [{"value": 2}, {"value": 3, "children": [{"value": 4}]}]})"));
    EXPECT_FALSE(tree.matches(R"({"value": 1, "children": [{}]})"));
    Schema root_recursion(R"({"type": "object", "properties": {"next": {"$ref": "#"}}})");
    EXPECT_TRUE(root_recursion.matches(R"({"next": {"next": {}}})"));
    Schema escaped_pointer(R"({"$defs": {"a/b": {"type": "null"}}, "$ref": "#/$defs/a~1b"})");
    EXPECT_TRUE(escaped_pointer.matches("null"));
}

TEST(JsonSchemaGrammar, StringLengthsCountCharacters) {
    Schema s(R"({"type": "string", "minLength": 2, "maxLength": 3})");
    EXPECT_FALSE(s.matches(R"("a")"));
    EXPECT_TRUE(s.matches(R"("ab")"));
    EXPECT_TRUE(s.matches("\"\xC3\xA9\xE4\xB8\xAD\\n\""));  // three characters
    EXPECT_FALSE(s.matches(R"("abcd")"));
    Schema empty(R"({"type": "string", "maxLength": 0})");
    EXPECT_TRUE(empty.matches(R"("")"));
    EXPECT_FALSE(empty.matches(R"("a")"));
}

TEST(JsonSchemaGrammar, Formats) {
    Schema date(R"({"type": "string", "format": "date"})");
    for (const char* ok : {R"("2024-01-31")", R"("1999-02-28")", R"("2024-04-30")"}) {
        EXPECT_TRUE(date.matches(ok)) << ok;
    }
    for (const char* bad : {R"("2024-02-30")", R"("2024-04-31")", R"("2024-13-01")",
                            R"("0000-01-01")", R"("2024-1-1")"}) {
        EXPECT_FALSE(date.matches(bad)) << bad;
    }
    Schema time(R"({"type": "string", "format": "time"})");
    EXPECT_TRUE(time.matches(R"("23:59:59Z")"));
    EXPECT_TRUE(time.matches(R"("08:00:00.123+02:00")"));
    EXPECT_FALSE(time.matches(R"("24:00:00Z")"));
    EXPECT_FALSE(time.matches(R"("12:00:00")"));  // RFC 3339 needs the offset
    Schema date_time(R"({"format": "date-time"})");
    EXPECT_TRUE(date_time.matches(R"("2024-05-06T07:08:09Z")"));
    Schema uuid(R"({"type": "string", "format": "uuid"})");
    EXPECT_TRUE(uuid.matches(R"("123e4567-e89b-12d3-a456-426614174000")"));
    EXPECT_FALSE(uuid.matches(R"("123e4567e89b12d3a456426614174000")"));
    Schema email(R"({"type": "string", "format": "email"})");
    EXPECT_TRUE(email.matches(R"("jane.doe+x@mail.example.org")"));
    EXPECT_FALSE(email.matches(R"("jane")"));
    EXPECT_FALSE(email.matches(R"("@example.org")"));
}

TEST(JsonSchemaGrammar, Patterns) {
    Schema anchored(R"({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"})");
    EXPECT_TRUE(anchored.matches(R"("AB-123")"));
    EXPECT_FALSE(anchored.matches(R"("AB-12")"));
    EXPECT_FALSE(anchored.matches(R"("xAB-123")"));
    Schema unanchored(R"({"type": "string", "pattern": "ab+c"})");
    EXPECT_TRUE(unanchored.matches(R"("xxabbbcyy")"));
    EXPECT_FALSE(unanchored.matches(R"("xxacyy")"));
    Schema alternation(R"({"pattern": "^(cat|dog)s?$|^bird$"})");
    EXPECT_TRUE(alternation.matches(R"("dogs")"));
    EXPECT_TRUE(alternation.matches(R"("bird")"));
    EXPECT_FALSE(alternation.matches(R"("birds")"));
    // Characters JSON escapes are produced escaped.
    Schema quote(R"({"pattern": "^a\"b\\\\c\\n$"})");
    EXPECT_TRUE(quote.matches(R"("a\"b\\c\n")"));
    Schema classes(R"({"pattern": "^[^a-z\\s]+\\.(?:jpg|png)$"})");
    EXPECT_TRUE(classes.matches(R"("IMG_01.png")"));
    EXPECT_TRUE(classes.matches(R"("\"Q\".jpg")"));  // [^...] includes ", written escaped
    EXPECT_FALSE(classes.matches(R"("img.png")"));
    Schema counted(R"({"pattern": "^x{2,}y{0,1}z*?$"})");
    EXPECT_TRUE(counted.matches(R"("xxxyzz")"));
    EXPECT_FALSE(counted.matches(R"("xyz")"));
}

TEST(JsonSchemaGrammar, IntegerRangesExactlyOverAWindow) {
    struct Case {
        const char* schema;
        int64_t lo, hi;  // the allowed range, inclusive
    };
    const Case cases[] = {
        {R"({"type": "integer", "minimum": 0, "maximum": 10})", 0, 10},
        {R"({"type": "integer", "minimum": -5, "maximum": 5})", -5, 5},
        {R"({"type": "integer", "minimum": 17, "maximum": 1234})", 17, 1234},
        {R"({"type": "integer", "minimum": -1234, "maximum": -17})", -1234, -17},
        {R"({"type": "integer", "minimum": 99, "maximum": 101})", 99, 101},
        {R"({"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 100})", 2, 99},
        {R"({"type": "integer", "minimum": 1.5, "maximum": 9.5})", 2, 9},
        {R"({"type": "integer", "minimum": 120})", 120, INT64_MAX},
        {R"({"type": "integer", "maximum": -3})", INT64_MIN, -3},
        {R"({"type": "integer", "minimum": 7, "exclusiveMinimum": 8})", 9, INT64_MAX},
        // Draft 4: exclusiveMinimum / exclusiveMaximum are booleans on minimum / maximum.
        {R"({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 3,
             "exclusiveMaximum": false})",
         1, 3},
    };
    for (const Case& c : cases) {
        Schema s(c.schema);
        for (int64_t v = -1500; v <= 1500; ++v) {
            const bool expected = v >= c.lo && v <= c.hi;
            ASSERT_EQ(s.matches(std::to_string(v)), expected) << c.schema << " value " << v;
        }
        EXPECT_FALSE(s.matches("-0")) << c.schema;
        EXPECT_FALSE(s.matches("007")) << c.schema;
    }
    Schema int64(
        R"({"type": "integer", "minimum": -9223372036854775808, "maximum": 9223372036854775807})");
    EXPECT_TRUE(int64.matches("-123456789012345678"));
    EXPECT_TRUE(int64.matches("0"));
    Schema open(R"({"type": "integer", "minimum": 0})");
    EXPECT_TRUE(open.matches("123456789012345678"));
    EXPECT_FALSE(open.matches("1234567890123456789"));  // open sides stop at 18 digits
}

TEST(JsonSchemaGrammar, NumberRanges) {
    Schema s(R"({"type": "number", "minimum": -2.5, "maximum": 3})");
    for (const char* ok : {"0", "3", "-2", "2.75", "-1.5", "0.001", "-0.5"}) {
        EXPECT_TRUE(s.matches(ok)) << ok;
    }
    for (const char* bad : {"4", "3.5", "-3", "-2.75", "1e2", "2.50"}) {
        EXPECT_FALSE(s.matches(bad)) << bad;
    }
    Schema exclusive(R"({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})");
    EXPECT_TRUE(exclusive.matches("0.5"));
    EXPECT_FALSE(exclusive.matches("0"));
    EXPECT_FALSE(exclusive.matches("1"));
    Schema only_min(R"({"type": "number", "minimum": 10})");
    EXPECT_TRUE(only_min.matches("1000.25"));
    EXPECT_FALSE(only_min.matches("9.99"));
}

TEST(JsonSchemaGrammarErrors, UnsupportedKeywordsNameTheKeywordAndPath) {
    EXPECT_EQ(
        error_of(
            R"({"type": "object", "properties": {"age": {"type": "integer", "multipleOf": 5}}})",
            ErrorCode::Unsupported),
        "json schema #/properties/age: keyword \"multipleOf\" is not supported");
    EXPECT_NE(error_of(R"({"patternProperties": {}})", ErrorCode::Unsupported)
                  .find("\"patternProperties\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"type": "array", "items": {"not": {}}})", ErrorCode::Unsupported)
                  .find("#/items: keyword \"not\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"type": "array", "uniqueItems": true})", ErrorCode::Unsupported)
                  .find("uniqueItems"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"type": "string", "format": "hostname"})", ErrorCode::Unsupported)
                  .find("format \"hostname\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"$ref": "https://example.com/s.json"})", ErrorCode::Unsupported)
                  .find("only local"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"({"anyOf": [{"type": "integer"}], "type": "integer"})", ErrorCode::Unsupported)
            .find("anyOf beside \"type\""),
        std::string::npos);
    EXPECT_NE(
        error_of(R"({"allOf": [{"type": "integer"}, {"type": "string"}]})", ErrorCode::Unsupported)
            .find("disagree on \"type\""),
        std::string::npos);
    EXPECT_NE(error_of(R"({"type": "string", "pattern": "^(?=a)b$"})", ErrorCode::Unsupported)
                  .find("#/pattern: pattern \"^(?=a)b$\": lookaround"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"pattern": "(a)\\1"})", ErrorCode::Unsupported).find("backreferences"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"pattern": "a\\bb"})", ErrorCode::Unsupported).find("word boundary"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"pattern": "a^b"})", ErrorCode::Unsupported).find("'^'"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"({"type": "number", "maximum": 1e16})", ErrorCode::Unsupported).find("+-1e15"),
        std::string::npos);
    EXPECT_NE(error_of(R"({"type": "string", "maxLength": 10000000})", ErrorCode::Unsupported)
                  .find("maxLength"),
              std::string::npos);
}

TEST(JsonSchemaGrammarErrors, MalformedSchemas) {
    EXPECT_EQ(error_of(R"({"type": "strnig"})", ErrorCode::InvalidArgument),
              "json schema #/type: unknown type \"strnig\"");
    EXPECT_NE(error_of(R"({"$ref": "#/$defs/Missing"})", ErrorCode::InvalidArgument)
                  .find("points to nothing"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"type": "array", "prefixItems": [{}], "minItems": 2})",
                       ErrorCode::InvalidArgument)
                  .find("minItems"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"({"type": "integer", "minimum": 5, "maximum": 4})", ErrorCode::InvalidArgument)
            .find("no integer"),
        std::string::npos);
    EXPECT_NE(error_of(R"({"required": "a"})", ErrorCode::InvalidArgument)
                  .find("required must be an array"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"({"properties": {"a": false}, "required": ["a"]})", ErrorCode::InvalidArgument)
            .find("#/properties/a: schema false"),
        std::string::npos);
    EXPECT_NE(error_of(R"({"pattern": "(ab"})", ErrorCode::InvalidArgument).find("missing ')'"),
              std::string::npos);
    EXPECT_NE(error_of("[1]", ErrorCode::InvalidArgument).find("must be an object or a boolean"),
              std::string::npos);
    std::string deep = "{}";
    for (int i = 0; i < 100; ++i) deep = R"({"type": "array", "items": )" + deep + "}";
    EXPECT_NE(error_of(deep, ErrorCode::OutOfRange).find("nested deeper"), std::string::npos);
}

TEST(JsonSchemaGrammar, AnnotationsAreIgnored) {
    Schema s(
        R"({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "title": "T",
        "description": "d", "examples": [1], "default": 1, "$comment": "c", "deprecated": false,
        "readOnly": true, "writeOnly": false, "type": "integer"})");
    EXPECT_TRUE(s.matches("1"));
}

}  // namespace
}  // namespace loom::server

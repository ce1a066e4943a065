// JSON Schema -> GBNF (see json_schema_grammar.h). One recursive walk over the schema
// that returns, for each subschema, a GBNF expression matching its values; optional
// whitespace is placed after every token that something follows (never after the whole
// text, so the grammar is complete at the last brace). Objects, arrays, $ref targets and
// shared pieces become named rules, named after the schema (property names, $defs
// names) and made unique.
// Spec: JSON Schema 2020-12 core and validation; llama.cpp's
// common/json-schema-to-grammar.cpp for the whitespace and primitive conventions.
#include "server/json_schema_grammar.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/format.h"
#include "server/gbnf_text.h"
#include "server/schema_numbers.h"
#include "server/schema_regex.h"

namespace loom::server {
namespace {

using json = nlohmann::ordered_json;

constexpr size_t kMaxDepth = 64;
constexpr uint64_t kMaxCount = 100000;  // minLength, maxLength, minItems, maxItems

const std::set<std::string> kAnnotations = {"title",    "description", "examples", "default",
                                            "$schema",  "$id",         "$comment", "deprecated",
                                            "readOnly", "writeOnly",   "$defs",    "definitions"};
// The keywords this converter acts on.
const std::set<std::string> kKeywords = {
    // any type
    "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
    // objects
    "properties", "required", "additionalProperties",
    // arrays
    "items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems",
    // strings
    "format", "minLength", "maxLength", "pattern",
    // numbers
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};

// A rule name from free text: letters, digits and '-' only.
std::string sanitize(std::string_view text) {
    std::string out;
    for (char c : text) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        out += ok ? c : '-';
    }
    return out.empty() ? "x" : out;
}

// One JSON pointer token (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key) {
    std::string out;
    for (char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

class SchemaConverter {
public:
    explicit SchemaConverter(const json& root) : root_(root) {
        rules_.push_back({"root", ""});
        rule_index_["root"] = 0;
        ref_names_["#"] = "root";
    }

    std::string convert() {
        rules_[0].second = visit(root_, "", "root", 0);
        return text();
    }

    std::string any_object() {
        rules_[0].second = primitive("object");
        return text();
    }

private:
    [[noreturn]] static void fail(ErrorCode code, const std::string& path,
                                  const std::string& message) {
        throw Error(code, "json schema #" + path + ": " + message);
    }

    std::string text() const {
        std::string out;
        for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
        return out;
    }

    // Adds name ::= body under name or, if that is taken by another body, name-N.
    std::string add_rule(const std::string& wanted, const std::string& body) {
        std::string name = sanitize(wanted);
        for (int n = 1;; ++n) {
            auto it = rule_index_.find(name);
            if (it == rule_index_.end()) break;
            if (rules_[it->second].second == body) return name;
            name = sanitize(wanted) + "-" + std::to_string(n);
        }
        rule_index_[name] = rules_.size();
        rules_.push_back({name, body});
        return name;
    }

    // A name for a rule whose body comes later (recursion through $ref).
    std::string reserve_rule(const std::string& wanted) {
        std::string name = sanitize(wanted);
        for (int n = 1; rule_index_.count(name) != 0; ++n) {
            name = sanitize(wanted) + "-" + std::to_string(n);
        }
        rule_index_[name] = rules_.size();
        // Its body is set (set_rule) once the referenced schema is converted; until then
        // it holds the empty string, a valid GBNF body.
        rules_.push_back({name, "\"\""});
        return name;
    }
    void set_rule(const std::string& name, const std::string& body) {
        rules_[rule_index_.at(name)].second = body;
    }

    // The shared rules, added on first use.
    std::string primitive(const std::string& which) {
        auto it = primitives_.find(which);
        if (it != primitives_.end()) return it->second;
        std::string body;
        if (which == "space") {
            body = "| \" \" | \"\\n\"{1,2} [ \\t]{0,20}";
        } else if (which == "char") {
            // Raw characters JSON allows, and escapes; \u escapes stop short of surrogates.
            body =
                "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" ([0-9a-cA-CeEfF] "
                "[0-9a-fA-F]{3} | "
                "[dD] [0-7] [0-9a-fA-F]{2}))";
        } else if (which == "string") {
            body = "\"\\\"\" " + primitive("char") + "* \"\\\"\"";
        } else if (which == "integral-part") {
            body = "\"0\" | [1-9] [0-9]{0,15}";
        } else if (which == "number") {
            body = "\"-\"? " + primitive("integral-part") +
                   " (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?";
        } else if (which == "integer") {
            body = "\"-\"? " + primitive("integral-part");
        } else if (which == "boolean") {
            body = "\"true\" | \"false\"";
        } else if (which == "null") {
            body = "\"null\"";
        } else if (which == "value") {
            // Reserved first: object and array refer back to it.
            const std::string name = reserve_rule("value");
            primitives_[which] = name;
            set_rule(name, primitive("object") + " | " + primitive("array") + " | " +
                               primitive("string") + " | " + primitive("number") + " | " +
                               primitive("boolean") + " | " + primitive("null"));
            return name;
        } else if (which == "object") {
            const std::string name = reserve_rule("object");
            primitives_[which] = name;
            const std::string s = primitive("space");
            const std::string kv =
                primitive("string") + " " + s + " \":\" " + s + " " + primitive("value") + " " + s;
            set_rule(name, "\"{\" " + s + " (" + kv + " (\",\" " + s + " " + kv + ")*)? \"}\"");
            return name;
        } else if (which == "array") {
            const std::string name = reserve_rule("array");
            primitives_[which] = name;
            const std::string s = primitive("space");
            const std::string v = primitive("value") + " " + s;
            set_rule(name, "\"[\" " + s + " (" + v + " (\",\" " + s + " " + v + ")*)? \"]\"");
            return name;
        } else if (which == "date") {
            const std::string d28 = "\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]";
            body = "[1-9] [0-9]{3} \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (" + d28 +
                   " | \"29\" | \"3\" [01]) | (\"0\" [469] | \"11\") \"-\" (" + d28 +
                   " | \"29\" | \"30\") | \"02\" \"-\" (" + d28 + "))";
        } else if (which == "time") {
            body =
                "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" "
                "[0-9]{1,6})? "
                "(\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
        } else if (which == "date-time") {
            body = primitive("date") + " \"T\" " + primitive("time");
        } else if (which == "uuid") {
            body =
                "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} "
                "\"-\" [0-9a-fA-F]{12}";
        } else if (which == "email") {
            const std::string label = "[a-zA-Z0-9] ([a-zA-Z0-9-]{0,30} [a-zA-Z0-9])?";
            body =
                "[a-zA-Z0-9] [a-zA-Z0-9._+-]{0,31} \"@\" (" + label + " \".\"){1,3} [a-zA-Z]{2,8}";
        }
        const std::string name = add_rule(which, body);
        primitives_[which] = name;
        return name;
    }

    static void check_keywords(const json& s, const std::string& path) {
        for (const auto& [key, value] : s.items()) {
            if (kAnnotations.count(key) || kKeywords.count(key)) continue;
            fail(ErrorCode::Unsupported, path,
                 "keyword " + quote_for_message(key) + " is not supported");
        }
        if (s.contains("uniqueItems") && s["uniqueItems"] != false) {
            fail(ErrorCode::Unsupported, path + "/uniqueItems",
                 "uniqueItems: true is not supported");
        }
    }

    // Keys of s other than annotations and the given ones.
    static std::vector<std::string> other_keys(const json& s,
                                               std::initializer_list<const char*> allowed) {
        std::vector<std::string> out;
        for (const auto& [key, value] : s.items()) {
            if (kAnnotations.count(key)) continue;
            if (std::none_of(allowed.begin(), allowed.end(),
                             [&](const char* a) { return key == a; }))
                out.push_back(key);
        }
        return out;
    }

    static uint64_t count_keyword(const json& s, const char* key, const std::string& path) {
        const json& v = s[key];
        if (!v.is_number_integer() || v.get<int64_t>() < 0) {
            fail(ErrorCode::InvalidArgument, path + "/" + key,
                 std::string(key) + " must be a non-negative integer");
        }
        const auto n = v.get<uint64_t>();
        if (n > kMaxCount) {
            fail(ErrorCode::Unsupported, path + "/" + key,
                 std::string(key) + " " + std::to_string(n) + " is above the supported " +
                     std::to_string(kMaxCount));
        }
        return n;
    }

    // "{m,n}" / "{m,}" / "*" suffix for a repetition count range.
    static std::string repetition(uint64_t min, std::optional<uint64_t> max) {
        if (min == 0 && !max) return "*";
        if (!max) return "{" + std::to_string(min) + ",}";
        return "{" + std::to_string(min) + "," + std::to_string(*max) + "}";
    }

    const json& resolve(const std::string& ref, const std::string& path) const {
        if (ref.empty() || ref[0] != '#') {
            fail(ErrorCode::Unsupported, path,
                 "$ref " + quote_for_message(ref) + ": only local references (#...) are supported");
        }
        const json* node = &root_;
        size_t pos = 1;
        while (pos < ref.size()) {
            if (ref[pos] != '/') {
                fail(ErrorCode::Unsupported, path,
                     "$ref " + quote_for_message(ref) + ": anchors are not supported");
            }
            const size_t end = std::min(ref.find('/', pos + 1), ref.size());
            std::string token;
            for (size_t i = pos + 1; i < end; ++i) {
                if (ref[i] == '~' && i + 1 < end && (ref[i + 1] == '0' || ref[i + 1] == '1')) {
                    token += ref[++i] == '0' ? '~' : '/';
                } else if (ref[i] == '%' && i + 2 < end &&
                           std::isxdigit(static_cast<unsigned char>(ref[i + 1])) &&
                           std::isxdigit(static_cast<unsigned char>(ref[i + 2]))) {
                    token += static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
                    i += 2;
                } else {
                    token += ref[i];
                }
            }
            if (node->is_object() && node->contains(token)) {
                node = &(*node)[token];
            } else if (node->is_array() && !token.empty() &&
                       token.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoull(token) < node->size()) {
                node = &(*node)[std::stoull(token)];
            } else {
                fail(ErrorCode::InvalidArgument, path,
                     "$ref " + quote_for_message(ref) + " points to nothing");
            }
            pos = end;
        }
        return *node;
    }

    std::string visit_ref(const json& s, const std::string& path, size_t depth) {
        if (!s["$ref"].is_string()) {
            fail(ErrorCode::InvalidArgument, path + "/$ref", "$ref must be a string");
        }
        const auto others = other_keys(s, {"$ref"});
        if (!others.empty()) {
            fail(ErrorCode::Unsupported, path,
                 "$ref beside " + quote_for_message(others[0]) + " is not supported");
        }
        const std::string ref = s["$ref"].get<std::string>();
        auto it = ref_names_.find(ref);
        if (it != ref_names_.end()) return it->second;
        const json& target = resolve(ref, path);
        const std::string hint =
            ref.rfind('/') == std::string::npos ? "ref" : ref.substr(ref.rfind('/') + 1);
        const std::string name = reserve_rule(hint);
        ref_names_[ref] = name;
        set_rule(name, visit(target, ref.substr(1), name, depth + 1));
        return name;
    }

    // allOf: the members' keywords merged into one schema (object members: properties
    // united, required united; any other keyword must agree).
    json merge_all_of(const json& s, const std::string& path, size_t depth) {
        if (depth > kMaxDepth) {
            fail(ErrorCode::OutOfRange, path,
                 "allOf nested deeper than " + std::to_string(kMaxDepth));
        }
        if (!s["allOf"].is_array()) {
            fail(ErrorCode::InvalidArgument, path + "/allOf", "allOf must be an array");
        }
        json merged = s;
        merged.erase("allOf");
        const json& members = s["allOf"];
        for (size_t i = 0; i < members.size(); ++i) {
            const std::string member_path = path + "/allOf/" + std::to_string(i);
            json member = members[i];
            if (member.is_boolean()) {
                if (member == true) continue;
                fail(ErrorCode::InvalidArgument, member_path, "schema false admits no value");
            }
            if (!member.is_object()) {
                fail(ErrorCode::InvalidArgument, member_path,
                     "a schema must be an object or a boolean");
            }
            check_keywords(member, member_path);
            for (size_t hops = 0; member.contains("$ref"); ++hops) {
                if (hops > kMaxDepth || !other_keys(member, {"$ref"}).empty() ||
                    !member["$ref"].is_string()) {
                    fail(ErrorCode::Unsupported, member_path,
                         "allOf member with $ref beside other keywords (or a $ref loop)");
                }
                member = resolve(member["$ref"].get<std::string>(), member_path);
            }
            if (member.contains("allOf")) member = merge_all_of(member, member_path, depth + 1);
            for (const auto& [key, value] : member.items()) {
                if (kAnnotations.count(key)) continue;
                if (key == "properties") {
                    if (!value.is_object()) {
                        fail(ErrorCode::InvalidArgument, member_path + "/properties",
                             "properties must be an object");
                    }
                    json& props = merged["properties"];
                    if (props.is_null()) props = json::object();
                    for (const auto& [name, schema] : value.items()) {
                        if (props.contains(name) && props[name] != schema) {
                            fail(ErrorCode::Unsupported,
                                 member_path + "/properties/" + pointer_token(name),
                                 "allOf members give property " + quote_for_message(name) +
                                     " different schemas");
                        }
                        props[name] = schema;
                    }
                } else if (key == "required") {
                    json& required = merged["required"];
                    if (required.is_null()) required = json::array();
                    for (const json& r : value) {
                        if (std::find(required.begin(), required.end(), r) == required.end()) {
                            required.push_back(r);
                        }
                    }
                } else if (!merged.contains(key)) {
                    merged[key] = value;
                } else if (merged[key] != value) {
                    fail(ErrorCode::Unsupported, member_path,
                         "allOf members disagree on " + quote_for_message(key) +
                             " (only merges of agreeing keywords are supported)");
                }
            }
        }
        return merged;
    }

    static std::string json_type_of(const json& v) {
        if (v.is_null()) return "null";
        if (v.is_boolean()) return "boolean";
        if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
        if (v.is_number()) return "number";
        if (v.is_string()) return "string";
        if (v.is_array()) return "array";
        return "object";
    }

    std::vector<std::string> types_of(const json& s, const std::string& path) const {
        std::vector<std::string> types;
        if (s.contains("type")) {
            const json& t = s["type"];
            if (t.is_string()) {
                types.push_back(t.get<std::string>());
            } else if (t.is_array() && !t.empty()) {
                for (const json& one : t) {
                    if (!one.is_string()) {
                        fail(ErrorCode::InvalidArgument, path + "/type",
                             "type names must be strings");
                    }
                    types.push_back(one.get<std::string>());
                }
            } else {
                fail(ErrorCode::InvalidArgument, path + "/type",
                     "type must be a string or a non-empty array of strings");
            }
            static const std::set<std::string> kTypes = {"null",   "boolean", "object", "array",
                                                         "number", "string",  "integer"};
            for (const std::string& t1 : types) {
                if (!kTypes.count(t1)) {
                    fail(ErrorCode::InvalidArgument, path + "/type",
                         "unknown type " + quote_for_message(t1));
                }
            }
            return types;
        }
        auto has_any = [&s](std::initializer_list<const char*> keys) {
            return std::any_of(keys.begin(), keys.end(),
                               [&s](const char* k) { return s.contains(k); });
        };
        if (has_any({"properties", "additionalProperties", "required"})) types.push_back("object");
        if (has_any({"items", "prefixItems", "additionalItems", "minItems", "maxItems"})) {
            types.push_back("array");
        }
        if (has_any({"minLength", "maxLength", "pattern", "format"})) types.push_back("string");
        if (has_any({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) {
            types.push_back("number");
        }
        return types;  // empty: any value
    }

    std::string literal_value(const json& v) { return gbnf_literal(v.dump()); }

    std::string join(const std::vector<std::string>& alternatives) const {
        if (alternatives.size() == 1) return alternatives[0];
        std::string out = "(";
        for (size_t i = 0; i < alternatives.size(); ++i) out += (i ? " | " : "") + alternatives[i];
        return out + ")";
    }

    std::string visit(const json& s, const std::string& path, const std::string& name,
                      size_t depth) {
        if (depth > kMaxDepth) {
            fail(ErrorCode::OutOfRange, path,
                 "schema nested deeper than " + std::to_string(kMaxDepth));
        }
        if (s.is_boolean()) {
            if (s == true) return primitive("value");
            fail(ErrorCode::InvalidArgument, path, "schema false admits no value");
        }
        if (!s.is_object()) {
            fail(ErrorCode::InvalidArgument, path, "a schema must be an object or a boolean");
        }
        check_keywords(s, path);
        if (s.contains("$ref")) return visit_ref(s, path, depth);
        if (s.contains("allOf")) return visit(merge_all_of(s, path, depth), path, name, depth + 1);
        for (const char* key : {"anyOf", "oneOf"}) {
            if (!s.contains(key)) continue;
            const json& branches = s[key];
            if (!branches.is_array() || branches.empty()) {
                fail(ErrorCode::InvalidArgument, path + "/" + key,
                     std::string(key) + " must be a non-empty array");
            }
            const auto others = other_keys(s, {key});
            if (!others.empty()) {
                fail(ErrorCode::Unsupported, path,
                     std::string(key) + " beside " + quote_for_message(others[0]) +
                         " is not supported");
            }
            std::vector<std::string> alternatives;
            for (size_t i = 0; i < branches.size(); ++i) {
                alternatives.push_back(visit(branches[i],
                                             path + "/" + key + "/" + std::to_string(i),
                                             name + "-" + std::to_string(i), depth + 1));
            }
            return join(alternatives);
        }
        const std::vector<std::string> types = types_of(s, path);
        if (s.contains("const") || s.contains("enum")) return visit_literals(s, path, types);
        if (types.empty()) return primitive("value");
        std::vector<std::string> alternatives;
        for (const std::string& t : types) {
            const std::string type_name = types.size() > 1 ? name + "-" + t : name;
            if (t == "null") {
                alternatives.push_back(primitive("null"));
            } else if (t == "boolean") {
                alternatives.push_back(primitive("boolean"));
            } else if (t == "integer" || t == "number") {
                alternatives.push_back(visit_number(s, path, t == "integer"));
            } else if (t == "string") {
                alternatives.push_back(visit_string(s, path));
            } else if (t == "object") {
                alternatives.push_back(visit_object(s, path, type_name, depth));
            } else {
                alternatives.push_back(visit_array(s, path, type_name, depth));
            }
        }
        return join(alternatives);
    }

    std::string visit_literals(const json& s, const std::string& path,
                               const std::vector<std::string>& types) {
        const auto others = other_keys(s, {"const", "enum", "type"});
        if (!others.empty()) {
            fail(ErrorCode::Unsupported, path,
                 "enum/const beside " + quote_for_message(others[0]) + " is not supported");
        }
        std::vector<json> values;
        if (s.contains("enum")) {
            if (!s["enum"].is_array()) {
                fail(ErrorCode::InvalidArgument, path + "/enum", "enum must be an array");
            }
            values.assign(s["enum"].begin(), s["enum"].end());
        }
        if (s.contains("const")) {
            // Both must hold: the const, if the enum lists it.
            const bool listed = !s.contains("enum") ||
                                std::find(values.begin(), values.end(), s["const"]) != values.end();
            values.clear();
            if (listed) values.push_back(s["const"]);
        }
        std::vector<std::string> alternatives;
        for (const json& v : values) {
            const std::string t = json_type_of(v);
            const bool typed =
                types.empty() ||
                std::any_of(types.begin(), types.end(), [&t](const std::string& want) {
                    return want == t || (want == "number" && t == "integer");
                });
            if (typed) alternatives.push_back(literal_value(v));
        }
        if (alternatives.empty()) {
            fail(ErrorCode::InvalidArgument, path, "no enum/const value satisfies the schema");
        }
        return join(alternatives);
    }

    std::string visit_number(const json& s, const std::string& path, bool integer) {
        NumberBounds bounds;
        auto number_at = [&](const char* key) {
            if (!s[key].is_number()) {
                fail(ErrorCode::InvalidArgument, path + "/" + key,
                     std::string(key) + " must be a number");
            }
            return s[key].get<double>();
        };
        if (s.contains("minimum")) bounds.minimum = number_at("minimum");
        if (s.contains("maximum")) bounds.maximum = number_at("maximum");
        for (const char* key : {"exclusiveMinimum", "exclusiveMaximum"}) {
            if (!s.contains(key)) continue;
            const bool is_min = std::string_view(key) == "exclusiveMinimum";
            std::optional<double>& bound = is_min ? bounds.minimum : bounds.maximum;
            bool& exclusive = is_min ? bounds.exclusive_minimum : bounds.exclusive_maximum;
            if (s[key].is_boolean()) {  // draft 4: modifies minimum / maximum
                exclusive = s[key].get<bool>() && bound.has_value();
                continue;
            }
            const double value = number_at(key);
            // Both an inclusive and an exclusive bound: the tighter one wins.
            if (!bound || (is_min ? value >= *bound : value <= *bound)) {
                bound = value;
                exclusive = true;
            }
        }
        if (!bounds.minimum && !bounds.maximum) return primitive(integer ? "integer" : "number");
        try {
            return "(" + (integer ? integer_range_gbnf(bounds) : number_range_gbnf(bounds)) + ")";
        } catch (const Error& e) {
            fail(e.code(), path, e.what());
        }
    }

    std::string visit_string(const json& s, const std::string& path) {
        const std::string quote = "\"\\\"\"";
        const std::string tail = " " + quote;
        const bool has_length = s.contains("minLength") || s.contains("maxLength");
        if (s.contains("format")) {
            if (!s["format"].is_string()) {
                fail(ErrorCode::InvalidArgument, path + "/format", "format must be a string");
            }
            const std::string format = s["format"].get<std::string>();
            if (has_length || s.contains("pattern")) {
                fail(ErrorCode::Unsupported, path,
                     "format together with minLength, maxLength or pattern is not supported");
            }
            static const std::set<std::string> kFormats = {"date", "time", "date-time", "uuid",
                                                           "email"};
            if (!kFormats.count(format)) {
                fail(ErrorCode::Unsupported, path + "/format",
                     "format " + quote_for_message(format) +
                         " is not supported (supported: date, time, date-time, uuid, email)");
            }
            return quote + " " + primitive(format) + tail;
        }
        if (s.contains("pattern")) {
            if (!s["pattern"].is_string()) {
                fail(ErrorCode::InvalidArgument, path + "/pattern", "pattern must be a string");
            }
            if (has_length) {
                fail(ErrorCode::Unsupported, path,
                     "pattern together with minLength or maxLength is not supported");
            }
            try {
                return quote + " " +
                       pattern_to_gbnf(s["pattern"].get<std::string>(), primitive("char")) + tail;
            } catch (const Error& e) {
                fail(e.code(), path + "/pattern", e.what());
            }
        }
        const uint64_t min = s.contains("minLength") ? count_keyword(s, "minLength", path) : 0;
        std::optional<uint64_t> max;
        if (s.contains("maxLength")) max = count_keyword(s, "maxLength", path);
        if (max && *max < min) {
            fail(ErrorCode::InvalidArgument, path, "maxLength is below minLength");
        }
        if (!has_length) return primitive("string");
        if (max && *max == 0) return quote + tail;
        return quote + " " + primitive("char") + repetition(min, max) + tail;
    }

    // A JSON string whose value is none of keys (the declared property names): it
    // follows the keys' trie as long as it matches one, and may end only where no key
    // ends, or leave the trie with any other (unescaped) character.
    std::string other_key(const std::vector<std::string>& keys, const std::string& name) {
        struct TrieNode {
            std::map<char32_t, size_t> children;
            bool is_key = false;
        };
        std::vector<TrieNode> trie(1);
        for (const std::string& key : keys) {
            size_t node = 0;
            for (size_t i = 0; i < key.size();) {
                const auto c0 = static_cast<unsigned char>(key[i]);
                const int len = c0 < 0x80 ? 1 : c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : 2;
                char32_t cp = len == 1 ? c0 : c0 & (0x7F >> len);
                for (int k = 1; k < len && i + k < key.size(); ++k) {
                    cp = (cp << 6) | (key[i + k] & 0x3F);
                }
                i += static_cast<size_t>(len);
                auto it = trie[node].children.find(cp);
                if (it == trie[node].children.end()) {
                    trie.push_back({});
                    it = trie[node].children.emplace(cp, trie.size() - 1).first;
                }
                node = it->second;
            }
            trie[node].is_key = true;
        }
        const std::string any = primitive("char");
        std::vector<std::string> names(trie.size());
        for (size_t i = 0; i < trie.size(); ++i) names[i] = reserve_rule(name + "-key");
        const CodeRanges json_specials =
            normalize_ranges({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}, {0x7F, 0x7F}});
        for (size_t i = 0; i < trie.size(); ++i) {
            std::vector<std::string> alternatives;
            if (!trie[i].is_key) alternatives.push_back("\"\\\"\"");
            CodeRanges taken = json_specials;
            for (const auto& [cp, child] : trie[i].children) {
                std::string ch;
                append_utf8(ch, cp);
                const std::string encoded = json(ch).dump();  // the character as JSON writes it
                alternatives.push_back(gbnf_literal(encoded.substr(1, encoded.size() - 2)) + " " +
                                       names[child]);
                taken.emplace_back(cp, cp);
            }
            alternatives.push_back(gbnf_class(complement_ranges(normalize_ranges(taken))) + " " +
                                   any + "* \"\\\"\"");
            std::string body;
            for (size_t a = 0; a < alternatives.size(); ++a) {
                body += (a ? " | " : "") + alternatives[a];
            }
            set_rule(names[i], body);
        }
        return "\"\\\"\" " + names[0];
    }

    std::string visit_object(const json& s, const std::string& path, const std::string& name,
                             size_t depth) {
        std::vector<std::pair<std::string, json>> props;
        if (s.contains("properties")) {
            if (!s["properties"].is_object()) {
                fail(ErrorCode::InvalidArgument, path + "/properties",
                     "properties must be an object");
            }
            for (const auto& [key, value] : s["properties"].items()) props.emplace_back(key, value);
        }
        std::set<std::string> required;
        if (s.contains("required")) {
            if (!s["required"].is_array()) {
                fail(ErrorCode::InvalidArgument, path + "/required", "required must be an array");
            }
            for (const json& r : s["required"]) {
                if (!r.is_string()) {
                    fail(ErrorCode::InvalidArgument, path + "/required",
                         "required names must be strings");
                }
                const std::string key = r.get<std::string>();
                required.insert(key);
                const bool declared = std::any_of(props.begin(), props.end(),
                                                  [&key](const auto& p) { return p.first == key; });
                if (!declared) props.emplace_back(key, json(true));  // required, any value
            }
        }
        const std::string s_rule = primitive("space");
        std::string extra_kv;
        if (s.contains("additionalProperties")) {
            const json& additional = s["additionalProperties"];
            if (!(additional.is_boolean() && additional == false)) {
                std::vector<std::string> keys;
                for (const auto& p : props) keys.push_back(p.first);
                const std::string key_rule =
                    keys.empty() ? primitive("string") : other_key(keys, name);
                extra_kv = key_rule + " " + s_rule + " \":\" " + s_rule + " " +
                           visit(additional, path + "/additionalProperties", name + "-additional",
                                 depth + 1) +
                           " " + s_rule;
            }
        }
        // rest[i]: what may follow once some property was written, from property i on;
        // first[i]: the same before any property was written. "" stands for nothing.
        const size_t n = props.size();
        std::string rest = extra_kv.empty() ? "" : "(\",\" " + s_rule + " " + extra_kv + ")*";
        std::string first =
            extra_kv.empty() ? "" : "(" + extra_kv + " (\",\" " + s_rule + " " + extra_kv + ")*)?";
        for (size_t k = n; k-- > 0;) {
            const auto& [key, schema] = props[k];
            // An optional property whose schema is false must simply be absent.
            if (schema.is_boolean() && schema == false && required.count(key) == 0) continue;
            const std::string kv = gbnf_literal(json(key).dump()) + " " + s_rule + " \":\" " +
                                   s_rule + " " +
                                   visit(schema, path + "/properties/" + pointer_token(key),
                                         name + "-" + key, depth + 1) +
                                   " " + s_rule;
            const bool optional = required.count(key) == 0;
            const std::string after = rest.empty() ? "" : " " + rest;
            // An alternative that may be empty goes first: GBNF continues a rule on the next
            // line after a trailing '|'.
            std::string rest_body =
                (optional ? rest + " | " : "") + "\",\" " + s_rule + " " + kv + after;
            std::string first_body = (optional ? first + " | " : "") + kv + after;
            if (k > 0) rest = add_rule(name + "-rest-" + std::to_string(k), rest_body);
            first = add_rule(name + "-from-" + std::to_string(k), first_body);
        }
        return add_rule(name, "\"{\" " + s_rule + (first.empty() ? "" : " " + first) + " \"}\"");
    }

    std::string visit_array(const json& s, const std::string& path, const std::string& name,
                            size_t depth) {
        std::vector<std::string> prefix;
        std::optional<json> rest_schema;
        std::string rest_path;
        auto take_prefix = [&](const json& list, const std::string& list_path) {
            for (size_t i = 0; i < list.size(); ++i) {
                prefix.push_back(visit(list[i], list_path + "/" + std::to_string(i),
                                       name + "-" + std::to_string(i), depth + 1) +
                                 " " + primitive("space"));
            }
        };
        const json* items = s.contains("items") ? &s["items"] : nullptr;
        if (s.contains("prefixItems")) {
            if (!s["prefixItems"].is_array()) {
                fail(ErrorCode::InvalidArgument, path + "/prefixItems",
                     "prefixItems must be an array");
            }
            if (s.contains("additionalItems")) {
                fail(ErrorCode::Unsupported, path,
                     "additionalItems beside prefixItems is not supported");
            }
            take_prefix(s["prefixItems"], path + "/prefixItems");
            if (items && *items != false) rest_schema = *items, rest_path = path + "/items";
        } else if (items && items->is_array()) {  // draft 7 tuple
            take_prefix(*items, path + "/items");
            if (s.contains("additionalItems") && s["additionalItems"] != false) {
                rest_schema = s["additionalItems"], rest_path = path + "/additionalItems";
            }
        } else {
            if (s.contains("additionalItems")) {
                fail(ErrorCode::Unsupported, path,
                     "additionalItems without an items array is not supported");
            }
            if (!items || *items != false) {
                rest_schema = items ? *items : json(true), rest_path = path + "/items";
            }
        }
        const uint64_t min = s.contains("minItems") ? count_keyword(s, "minItems", path) : 0;
        std::optional<uint64_t> max;
        if (s.contains("maxItems")) max = count_keyword(s, "maxItems", path);
        if (!rest_schema) max = std::min<uint64_t>(max.value_or(prefix.size()), prefix.size());
        if (max && min > *max) {
            fail(ErrorCode::InvalidArgument, path,
                 "minItems is above the number of items the schema allows");
        }

        const std::string s_rule = primitive("space");
        const std::string rest =
            rest_schema ? visit(*rest_schema, rest_path, name + "-item", depth + 1) + " " + s_rule
                        : "";
        auto slot = [&](uint64_t i) { return i < prefix.size() ? prefix[i] : rest; };
        auto sep = [&](uint64_t i) { return i == 0 ? std::string() : "\",\" " + s_rule + " "; };
        // Items min.. : the open tail after the required ones.
        const uint64_t k = prefix.size();
        std::string tail;
        const uint64_t tail_from = std::max<uint64_t>(k, min);
        if (rest_schema && (!max || tail_from < *max)) {
            const std::optional<uint64_t> more =
                max ? std::optional<uint64_t>(*max - tail_from) : std::nullopt;
            if (tail_from == 0) {
                tail = "(" + rest + " (\",\" " + s_rule + " " + rest + ")" +
                       repetition(0, more ? std::optional<uint64_t>(*more - 1) : std::nullopt) +
                       ")?";
            } else {
                tail = "(\",\" " + s_rule + " " + rest + ")" + repetition(0, more);
            }
        }
        for (uint64_t j = std::min<uint64_t>(k, max.value_or(k)); j-- > min;) {
            tail = add_rule(name + "-tail-" + std::to_string(j),
                            "| " + sep(j) + slot(j) + (tail.empty() ? "" : " " + tail));
        }
        std::string body = "\"[\" " + s_rule;
        for (uint64_t i = 0; i < min; ++i) body += " " + sep(i) + slot(i);
        if (!tail.empty()) body += " " + tail;
        return add_rule(name, body + " \"]\"");
    }

    const json& root_;
    std::vector<std::pair<std::string, std::string>> rules_;
    std::unordered_map<std::string, size_t> rule_index_;
    std::unordered_map<std::string, std::string> primitives_;
    std::unordered_map<std::string, std::string> ref_names_;
};

}  // namespace

std::string json_schema_to_grammar(const nlohmann::ordered_json& schema) {
    return SchemaConverter(schema).convert();
}

std::string json_object_grammar() {
    static const json kEmpty = json::object();
    return SchemaConverter(kEmpty).any_object();
}

}  // namespace loom::server

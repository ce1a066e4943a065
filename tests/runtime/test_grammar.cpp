// GBNF grammar tests: what the parser accepts (literals with every escape, classes,
// negation, ".", groups, all repetition forms, comments, line rules, CRLF), what the
// compiled grammar matches (checked on whole strings and prefixes through the byte
// automaton, multi-byte characters included), and the errors: each names its line and
// column and what was expected. Hostile inputs (deep nesting, huge repetition counts,
// explosive ambiguity) stop with an error, not a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/grammar.h"
#include "runtime/grammar_automaton.h"
#include "runtime/utf8_ranges.h"

namespace loom::runtime {
namespace {

using StateId = GrammarAutomaton::StateId;

StateId walk(GrammarAutomaton& a, std::string_view text) {
    StateId s = a.initial();
    for (char c : text) {
        s = a.next(s, static_cast<uint8_t>(c));
        if (s == GrammarAutomaton::kDead) break;
    }
    return s;
}

// The whole text is a sentence of the grammar.
bool matches(const std::string& grammar, std::string_view text) {
    GrammarAutomaton a(Grammar::parse(grammar));
    return a.can_end(walk(a, text));
}

// The text can be continued to a sentence.
bool is_prefix(const std::string& grammar, std::string_view text) {
    GrammarAutomaton a(Grammar::parse(grammar));
    return walk(a, text) != GrammarAutomaton::kDead;
}

// The message of the loom::Error that parsing throws ("" if it does not throw).
std::string parse_error(const std::string& grammar, ErrorCode expected = ErrorCode::Format) {
    try {
        Grammar::parse(grammar);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error for: " << grammar;
    return "";
}

TEST(Grammar, LiteralsAndAlternatives) {
    const std::string g = R"(root ::= "yes" | "no" | "")";
    EXPECT_TRUE(matches(g, "yes"));
    EXPECT_TRUE(matches(g, "no"));
    EXPECT_TRUE(matches(g, ""));
    EXPECT_FALSE(matches(g, "ye"));
    EXPECT_TRUE(is_prefix(g, "ye"));
    EXPECT_FALSE(is_prefix(g, "yes!"));
    EXPECT_FALSE(is_prefix(g, "x"));
}

TEST(Grammar, Escapes) {
    const std::string g = R"(root ::= "\n\r\t\\\"\[\]\x41\u00e9\U0001F600")";
    EXPECT_TRUE(matches(g, "\n\r\t\\\"[]A\xC3\xA9\xF0\x9F\x98\x80"));
    EXPECT_TRUE(matches(R"(root ::= [\x00-\x1F])", std::string(1, '\0')));
    EXPECT_TRUE(matches(R"(root ::= [\]\[])", "]"));
}

TEST(Grammar, ClassesRangesAndNegation) {
    const std::string g = "root ::= [a-cx] [^a-z\"] .";
    EXPECT_TRUE(matches(g, "a1z"));
    EXPECT_TRUE(matches(g, "xZ\xE2\x82\xAC"));  // "." takes a 3-byte character
    EXPECT_FALSE(matches(g, "d1z"));
    EXPECT_FALSE(matches(g, "ab1"));
    EXPECT_FALSE(matches(g, "a\"z"));
    // A negated class matches multi-byte characters; a dash at the end is literal.
    EXPECT_TRUE(matches("root ::= [^a]", "\xC3\xA9"));
    EXPECT_TRUE(matches("root ::= [a-]", "-"));
    // Empty class matches nothing, [^] anything.
    EXPECT_FALSE(is_prefix("root ::= []", "a"));
    EXPECT_TRUE(matches("root ::= [^]", "\xF0\x9F\x98\x80"));
}

TEST(Grammar, MultiByteClassesMatchExactlyTheirCodePoints) {
    const std::string g = "root ::= [\\u00e0-\\u00ff\\u4e00-\\u4e03\\U0001F600]";
    EXPECT_TRUE(matches(g, "\xC3\xA0"));          // U+00E0
    EXPECT_TRUE(matches(g, "\xC3\xBF"));          // U+00FF
    EXPECT_FALSE(matches(g, "\xC3\x9F"));         // U+00DF
    EXPECT_TRUE(matches(g, "\xE4\xB8\x83"));      // U+4E03
    EXPECT_FALSE(matches(g, "\xE4\xB8\x84"));     // U+4E04
    EXPECT_TRUE(matches(g, "\xF0\x9F\x98\x80"));  // U+1F600
    EXPECT_TRUE(is_prefix(g, "\xE4\xB8"));        // part of a character
    EXPECT_FALSE(is_prefix(g, "\xE4\xB9"));       // no code point in the class starts so
    // Invalid UTF-8 is never matched, not even by ".".
    EXPECT_FALSE(is_prefix("root ::= .", "\x80"));
    EXPECT_FALSE(is_prefix("root ::= .", "\xC0\x80"));      // overlong
    EXPECT_FALSE(is_prefix("root ::= .", "\xED\xA0\x80"));  // surrogate
    EXPECT_FALSE(is_prefix("root ::= .", "\xF4\x90"));      // above U+10FFFF
}

TEST(Grammar, Repetitions) {
    EXPECT_TRUE(matches(R"(root ::= "ab"*)", ""));
    EXPECT_TRUE(matches(R"(root ::= "ab"*)", "ababab"));
    EXPECT_FALSE(matches(R"(root ::= "ab"*)", "aba"));
    EXPECT_FALSE(matches(R"(root ::= "a"+)", ""));
    EXPECT_TRUE(matches(R"(root ::= "a"+)", "aaa"));
    EXPECT_TRUE(matches(R"(root ::= "a"? "b")", "b"));
    EXPECT_TRUE(matches(R"(root ::= "a"? "b")", "ab"));
    EXPECT_FALSE(matches(R"(root ::= "a"? "b")", "aab"));
    const std::string exact = R"(root ::= [0-9]{3})";
    EXPECT_FALSE(matches(exact, "12"));
    EXPECT_TRUE(matches(exact, "123"));
    EXPECT_FALSE(is_prefix(exact, "1234"));
    const std::string at_least = R"(root ::= "x"{2,})";
    EXPECT_FALSE(matches(at_least, "x"));
    EXPECT_TRUE(matches(at_least, "xx"));
    EXPECT_TRUE(matches(at_least, "xxxxxxx"));
    const std::string between = R"(root ::= ("a" | "b"){1,3} "!")";
    EXPECT_FALSE(matches(between, "!"));
    EXPECT_TRUE(matches(between, "a!"));
    EXPECT_TRUE(matches(between, "bab!"));
    EXPECT_FALSE(is_prefix(between, "baba"));
    EXPECT_TRUE(matches(R"(root ::= "a"{0} "b")", "b"));
    EXPECT_TRUE(matches(R"(root ::= "a"{ 1 , 2 })", "aa"));
}

TEST(Grammar, RulesGroupsCommentsAndLines) {
    const std::string g =
        "# a comment line\r\n"
        "root ::= greeting ( \" \" name )?   # trailing comment\r\n"
        "greeting ::= \"hi\" | \"hello\"\n"
        "name ::= (\n"
        "    [A-Z] [a-z]*   # nested: line breaks are fine\n"
        "  | \"you\"\n"
        ")\n"
        "unused ::= \"x\" |\n"
        "  \"y\"\n";
    EXPECT_TRUE(matches(g, "hi"));
    EXPECT_TRUE(matches(g, "hello Ada"));
    EXPECT_TRUE(matches(g, "hi you"));
    EXPECT_FALSE(matches(g, "hi ada"));
}

TEST(Grammar, RecursionThatIsNotLeftRecursion) {
    // llama.cpp's arithmetic example shape: recursion after a consumed character.
    const std::string g =
        "root ::= expr\n"
        "expr ::= term ([-+*/] term)*\n"
        "term ::= num | \"(\" expr \")\"\n"
        "num  ::= [0-9]+\n";
    EXPECT_TRUE(matches(g, "1+(2*(3-4))/5"));
    EXPECT_FALSE(matches(g, "1+(2"));
    EXPECT_TRUE(is_prefix(g, "1+(2"));
    EXPECT_FALSE(is_prefix(g, "1+)"));
}

TEST(Grammar, JsonGrammar) {
    // llama.cpp's grammars/json.gbnf, as users write it.
    const std::string g = R"(root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
)";
    EXPECT_TRUE(matches(g, R"({"a": [1, 2.5, -3e4, "x\n\u00e9", true, null, {}], "b": "ü"})"));
    EXPECT_FALSE(matches(g, R"({"a": })"));
    EXPECT_TRUE(is_prefix(g, R"({"a": [1, 2)"));
    EXPECT_FALSE(is_prefix(g, R"({"a" 1)"));
}

TEST(Grammar, ToStringShowsTheCompiledRules) {
    auto g = Grammar::parse("root ::= \"a\" b?\nb ::= [0-9]\n");
    EXPECT_EQ(g->rule_name(g->root()), "root");
    const std::string text = g->to_string();
    EXPECT_NE(text.find("root ::= [a] root_2"), std::string::npos) << text;
    EXPECT_NE(text.find("b ::= [0-9]"), std::string::npos) << text;
}

TEST(GrammarErrors, SyntaxErrorsNameLineColumnAndExpectation) {
    EXPECT_EQ(parse_error("root ::= \"a\"\nfoo = \"b\""),
              "grammar: line 2, column 5: expected '::=' after the rule name \"foo\", got \"=\"");
    EXPECT_NE(parse_error("my_rule ::= \"a\"").find("rule names are letters, digits and '-'"),
              std::string::npos);
    EXPECT_EQ(parse_error("root ::= \"abc"),
              "grammar: line 1, column 10: string literal is not closed (expected '\"' before the "
              "end of the text)");
    EXPECT_EQ(parse_error("root ::= [a-z"),
              "grammar: line 1, column 10: character class [ is not closed (expected ']' before "
              "the end of the text)");
    EXPECT_NE(parse_error("root ::= \"\\q\"").find("line 1, column 11: unknown escape \\\"q\""),
              std::string::npos);
    EXPECT_NE(parse_error("root ::= \"\\x4\"").find("expected 2 hex digits"), std::string::npos);
    EXPECT_NE(parse_error("root ::= \"\\U00110000\"").find("above U+10FFFF"), std::string::npos);
    EXPECT_EQ(
        parse_error("root ::= (\"a\" | \"b\""),
        "grammar: line 1, column 20: expected ')' to close the group opened at line 1, column 10, "
        "got the end of the text");
    EXPECT_EQ(parse_error("root ::= * \"a\""),
              "grammar: line 1, column 10: '*' must follow an item to repeat");
    EXPECT_EQ(parse_error("root ::= \"a\"{x}"),
              "grammar: line 1, column 14: expected a number after '{', got \"x\"");
    EXPECT_EQ(parse_error("root ::= \"a\"{3,1}"),
              "grammar: line 1, column 13: repetition {3,1}: the maximum is below the minimum");
    EXPECT_EQ(parse_error("root ::= \"a\"{1;"),
              "grammar: line 1, column 15: expected ',' or '}' in the repetition, got \";\"");
    EXPECT_EQ(parse_error("root ::= \"a\" )"),
              "grammar: line 1, column 14: expected the end of the line after the rule \"root\", "
              "got \")\"");
    EXPECT_NE(parse_error("root ::= [z-a]").find("column 11: reversed range \"z-a\""),
              std::string::npos);
    EXPECT_NE(parse_error("root ::= \"\xC3\"").find("invalid UTF-8"), std::string::npos);
    EXPECT_EQ(parse_error("::= \"a\""),
              "grammar: line 1, column 1: expected a rule name, got \":\"");
}

TEST(GrammarErrors, RulesMustBeDefinedOnceAndRootMustExist) {
    EXPECT_EQ(parse_error("root ::= item \"x\"\n\nitem ::= ok\n"),
              "grammar: line 3, column 10: undefined rule \"ok\"");
    EXPECT_EQ(parse_error("start ::= \"a\""), "grammar: no rule named \"root\" (the start rule)");
    EXPECT_EQ(
        parse_error("root ::= \"a\"\nroot ::= \"b\""),
        "grammar: line 2, column 1: rule \"root\" is defined twice (first at line 1, column 1)");
}

TEST(GrammarErrors, LeftRecursionIsRejected) {
    EXPECT_NE(parse_error("root ::= root \"a\" | \"a\"")
                  .find("rule \"root\" is left-recursive (root -> root)"),
              std::string::npos);
    // Through another rule.
    EXPECT_NE(parse_error("root ::= a\na ::= b \"x\"\nb ::= a | \"y\"").find("left-recursive"),
              std::string::npos);
    // Through a rule that may match nothing, and through a repetition of one.
    EXPECT_NE(parse_error("root ::= e root \"x\" | \"y\"\ne ::= \"e\"?").find("left-recursive"),
              std::string::npos);
    EXPECT_NE(parse_error("root ::= (\"a\"*)*").find("left-recursive"), std::string::npos);
    // Right recursion is fine.
    EXPECT_TRUE(matches("root ::= \"a\" root | \"\"", "aaa"));
}

TEST(GrammarErrors, HostileInputStaysBounded) {
    std::string deep = "root ::= " + std::string(1000, '(') + "\"a\"" + std::string(1000, ')');
    EXPECT_NE(parse_error(deep, ErrorCode::OutOfRange).find("nested more than"), std::string::npos);
    EXPECT_NE(
        parse_error("root ::= \"a\"{99999999999}", ErrorCode::OutOfRange).find("repetition count"),
        std::string::npos);
    // Large expansions stop at the element budget.
    EXPECT_NE(parse_error("root ::= \"a\"{700000} \"b\"{700000}", ErrorCode::OutOfRange)
                  .find("expands to more than"),
              std::string::npos);
    // A repetition of a repetition wraps the inner one in a rule: it adds, not multiplies.
    EXPECT_TRUE(matches("root ::= \"a\"{300}{300}", std::string(90000, 'a')));
    // Nesting right at the limit still parses.
    const size_t ok = kMaxGrammarNesting;
    EXPECT_TRUE(matches("root ::= " + std::string(ok, '(') + "\"a\"" + std::string(ok, ')'), "a"));
}

TEST(GrammarErrors, ExplosiveAmbiguityStopsWithAnError) {
    // After n "a"s every one of 2^n ways to close them is open at once.
    GrammarAutomaton a(Grammar::parse("root ::= x\nx ::= \"a\" x \"b\" | \"a\" x \"c\" | \"\""));
    StateId s = a.initial();
    try {
        for (int i = 0; i < 20; ++i) s = a.next(s, 'a');
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfRange);
        EXPECT_NE(std::string(e.what()).find("too ambiguous"), std::string::npos);
    }
}

TEST(Utf8Ranges, SequencesMatchExactlyTheEncodings) {
    const std::vector<std::pair<char32_t, char32_t>> ranges = {
        {0, 0x10FFFF},     {0x41, 0x5A},     {0x7F, 0x80},         {0x7FF, 0x800}, {0xD000, 0xE100},
        {0xFFFF, 0x10000}, {0x1234, 0x5678}, {0x10FFFF, 0x10FFFF}, {0x20, 0x3FF}};
    for (auto [lo, hi] : ranges) {
        std::vector<Utf8Sequence> seqs;
        append_utf8_sequences(lo, hi, seqs);
        // Every code point (by steps, plus the range's edges) is matched by exactly the
        // sequences' products iff it is in the range and not a surrogate.
        for (char32_t cp = 0; cp <= kMaxCodePoint; cp += (cp % 977 == 0 ? 1 : 131)) {
            const char32_t below = lo > 0 ? lo - 1 : lo;
            const char32_t above = hi + 1;
            for (char32_t probe : {cp, lo, hi, below, above}) {
                if (probe > kMaxCodePoint) continue;
                std::array<uint8_t, 4> bytes{};
                const int len = encode_utf8(probe, bytes);
                size_t hits = 0;
                for (const Utf8Sequence& s : seqs) {
                    bool all = s.length == len;
                    for (int k = 0; all && k < len; ++k) {
                        all = bytes[k] >= s.bytes[k].lo && bytes[k] <= s.bytes[k].hi;
                    }
                    hits += all;
                }
                const bool expected =
                    probe >= lo && probe <= hi && !(probe >= 0xD800 && probe <= 0xDFFF);
                ASSERT_EQ(hits, expected ? 1u : 0u) << std::hex << "range " << uint32_t{lo} << "-"
                                                    << uint32_t{hi} << " cp " << uint32_t{probe};
            }
        }
    }
}

}  // namespace
}  // namespace loom::runtime

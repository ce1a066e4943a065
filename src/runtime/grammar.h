// Grammar: a parsed GBNF grammar (llama.cpp's grammar format), immutable and shareable
// by every sequence that generates under it.
//
//   std::shared_ptr<const Grammar> g = Grammar::parse(R"(root ::= "yes" | "no")");
//   GrammarMatcher matcher(g, token_trie);          // runtime/grammar_matcher.h
//
// The syntax, as llama.cpp's grammar parser reads it (grammars/README.md there):
//   rule     ::= name "::=" alternatives (newline | end)     name: [a-zA-Z0-9-]+
//   alternatives: sequences separated by "|"; a sequence may be empty
//   items:   "literal" (escapes \n \r \t \\ \" \[ \] \xHH \uHHHH \UHHHHHHHH),
//            [class] / [^negated] with ranges a-z and the same escapes, "." (any
//            character), a rule name, ( grouping ), each optionally followed by
//            * + ? {m} {m,} {m,n}
//   "#" starts a comment to the end of the line. A rule ends at a newline, except
//   inside parentheses and after "|". The start rule is "root".
// Stricter than llama.cpp where it would silently do something else: a rule defined
// twice and a reversed range (z-a) are errors.
//
// Representation: the grammar is compiled to bytes. Every character class becomes the
// UTF-8 byte sequences of its code points (runtime/utf8_ranges.h): a one-sequence class
// is inlined, a class of several sequences becomes a rule whose alternatives are those
// sequences. Matching therefore walks bytes, and a token that ends inside a multi-byte
// character leaves the matcher part-way through a sequence (grammar_matcher.h). Each
// rule is a list of alternatives; an alternative is a run of elements in one array,
// closed by an End element.
//
// Errors: parse() throws loom::Error with the line and column:
//   Format       a syntax error ("expected ..., got ..."), an undefined rule, a missing
//                root rule, a rule defined twice, left recursion (which the matcher
//                cannot run), invalid UTF-8 in the text;
//   OutOfRange   nesting deeper than kMaxGrammarNesting, repetition counts or a grammar
//                that expands past kMaxGrammarElements (hostile input stays bounded).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace loom::runtime {

// Bounds that keep a hostile grammar's parse and expansion finite and small.
constexpr size_t kMaxGrammarNesting = 128;        // ( ... ) groups inside each other
constexpr size_t kMaxGrammarElements = 1u << 20;  // elements after expansion (8 MiB)

enum class GrammarOp : uint8_t {
    End,    // closes an alternative
    Rule,   // arg: rule id
    Bytes,  // arg: byte-class id; matches one byte in the class
};

struct GrammarElement {
    GrammarOp op = GrammarOp::End;
    uint32_t arg = 0;
};

// A set of bytes, 256 bits.
struct ByteClass {
    std::array<uint64_t, 4> bits{};
    bool contains(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
    void add(uint8_t lo, uint8_t hi) {
        for (unsigned b = lo; b <= hi; ++b) bits[b >> 6] |= uint64_t{1} << (b & 63);
    }
    bool operator==(const ByteClass&) const = default;
};

class Grammar {
public:
    // Parses GBNF text (see above); throws loom::Error.
    static std::shared_ptr<const Grammar> parse(std::string_view text);

    // Parts of a compiled grammar; built by GrammarBuilder (runtime/grammar_builder.h).
    struct Parts {
        std::vector<std::string> rule_names;
        std::vector<uint32_t> rule_first_alt;  // n_rules + 1 offsets into alt_starts
        std::vector<uint32_t> alt_starts;      // element position of each alternative
        std::vector<GrammarElement> elements;
        std::vector<ByteClass> classes;
        uint32_t root = 0;
    };
    explicit Grammar(Parts parts);

    uint32_t root() const { return parts_.root; }
    size_t rule_count() const { return parts_.rule_names.size(); }
    std::string_view rule_name(uint32_t rule) const { return parts_.rule_names[rule]; }
    // Element positions of the first element of each alternative of rule.
    std::span<const uint32_t> alternatives(uint32_t rule) const {
        return std::span<const uint32_t>(parts_.alt_starts)
            .subspan(parts_.rule_first_alt[rule],
                     parts_.rule_first_alt[rule + 1] - parts_.rule_first_alt[rule]);
    }
    const GrammarElement& element(uint32_t pos) const { return parts_.elements[pos]; }
    size_t element_count() const { return parts_.elements.size(); }
    bool class_contains(uint32_t cls, uint8_t b) const { return parts_.classes[cls].contains(b); }

    // The compiled grammar, one rule a line, byte classes written as [\xNN-\xNN]: for
    // debugging and tests (it reads like GBNF but matches bytes, not code points).
    std::string to_string() const;

private:
    Parts parts_;
};

}  // namespace loom::runtime

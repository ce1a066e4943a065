// GrammarBuilder: collects a grammar's rules over code points, as the GBNF parser reads
// them, then checks them and compiles them to the byte-level Grammar (grammar.h).
// Internal to the runtime layer: the public entry is Grammar::parse.
//
// Checks in build(): a root rule exists, every referenced rule is defined, no rule is
// left-recursive (a rule that can reach itself before consuming a byte, also through
// rules that can match the empty string), and the compiled size stays within
// kMaxGrammarElements. Errors name the line and column of the offending definition or
// reference (positions are byte offsets into the source, turned into line:column here).
//
// Not here: the text syntax (grammar_parser.cpp), matching (grammar_automaton.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/grammar.h"

namespace loom::runtime {

// "line 3, column 14" for a byte offset into source (columns count characters).
std::string grammar_position(std::string_view source, size_t offset);

class GrammarBuilder {
public:
    // One item of a sequence: a rule reference or a set of code points.
    struct Item {
        bool is_rule = false;
        uint32_t id = 0;  // rule id or code-set id
    };
    using Sequence = std::vector<Item>;
    using CodeRanges = std::vector<std::pair<char32_t, char32_t>>;

    // source: the grammar text, for positions in error messages.
    explicit GrammarBuilder(std::string_view source);

    // The rule named name, created undefined on its first use; offset is where this use
    // is (the first one is kept for the "undefined rule" error).
    uint32_t reference(std::string_view name, size_t offset);
    // A new, still undefined rule named after base and its id (groups, repetitions);
    // define() it next (its alternatives may refer to it).
    uint32_t synthesize(std::string_view base, size_t offset);
    // Gives a rule its alternatives; a second definition is a Format error.
    void define(uint32_t rule, std::vector<Sequence> alternatives, size_t offset);
    // The id of a set of code points: ranges in any order, possibly overlapping;
    // negated: the complement within [0, kMaxCodePoint].
    uint32_t code_set(CodeRanges ranges, bool negated);
    // Counts n more items against kMaxGrammarElements; OutOfRange error past it. The
    // parser charges every item it is about to create, so expansion stays bounded.
    void charge(size_t n, size_t offset);

    std::shared_ptr<const Grammar> build() const;

private:
    struct RuleDef {
        std::string name;
        std::vector<Sequence> alternatives;
        bool defined = false;
        size_t offset = 0;  // definition, or first reference while undefined
    };

    [[noreturn]] void fail(size_t offset, const std::string& message) const;
    void check_defined() const;
    void check_left_recursion() const;
    std::vector<bool> nullable_rules() const;

    std::string_view source_;
    std::vector<RuleDef> rules_;
    std::unordered_map<std::string, uint32_t> rule_ids_;
    std::vector<CodeRanges> code_sets_;
    std::map<CodeRanges, uint32_t> code_set_ids_;
    size_t charged_ = 0;
};

}  // namespace loom::runtime

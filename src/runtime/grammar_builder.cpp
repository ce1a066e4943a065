// Rules over code points -> checked, byte-level Grammar (see grammar_builder.h).
#include "runtime/grammar_builder.h"

#include <algorithm>

#include "core/error.h"
#include "core/format.h"
#include "runtime/utf8_ranges.h"

namespace loom::runtime {
namespace {

// A byte-level alternative of a code set: one ByteClass per byte.
using ByteSequence = std::vector<ByteClass>;

// The byte sequences of a code set, with sequences that differ only in their first byte
// merged into one (their first bytes united), so that e.g. all of ASCII is one class.
std::vector<ByteSequence> byte_sequences(const GrammarBuilder::CodeRanges& ranges) {
    std::vector<Utf8Sequence> utf8;
    for (const auto& [lo, hi] : ranges) append_utf8_sequences(lo, hi, utf8);
    std::vector<ByteSequence> out;
    for (const Utf8Sequence& s : utf8) {
        ByteSequence seq(s.length);
        for (size_t k = 0; k < s.length; ++k) seq[k].add(s.bytes[k].lo, s.bytes[k].hi);
        auto same_tail = [&seq](const ByteSequence& other) {
            return other.size() == seq.size() &&
                   std::equal(seq.begin() + 1, seq.end(), other.begin() + 1);
        };
        auto it = std::find_if(out.begin(), out.end(), same_tail);
        if (it == out.end()) {
            out.push_back(std::move(seq));
        } else {
            for (size_t w = 0; w < 4; ++w) it->front().bits[w] |= seq.front().bits[w];
        }
    }
    return out;
}

}  // namespace

std::string grammar_position(std::string_view source, size_t offset) {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset && i < source.size(); ++i) {
        const auto c = static_cast<unsigned char>(source[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++column;  // a character starts here (continuation bytes do not count)
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

GrammarBuilder::GrammarBuilder(std::string_view source) : source_(source) {}

void GrammarBuilder::fail(size_t offset, const std::string& message) const {
    throw Error(ErrorCode::Format,
                "grammar: " + grammar_position(source_, offset) + ": " + message);
}

void GrammarBuilder::charge(size_t n, size_t offset) {
    if (n > kMaxGrammarElements || charged_ + n > kMaxGrammarElements) {
        throw Error(ErrorCode::OutOfRange, "grammar: " + grammar_position(source_, offset) +
                                               ": the grammar expands to more than " +
                                               std::to_string(kMaxGrammarElements) +
                                               " elements (lower the repetition counts)");
    }
    charged_ += n;
}

uint32_t GrammarBuilder::reference(std::string_view name, size_t offset) {
    auto [it, inserted] =
        rule_ids_.emplace(std::string(name), static_cast<uint32_t>(rules_.size()));
    if (inserted) {
        charge(1, offset);
        rules_.push_back(RuleDef{std::string(name), {}, false, offset});
    }
    return it->second;
}

void GrammarBuilder::define(uint32_t rule, std::vector<Sequence> alternatives, size_t offset) {
    RuleDef& def = rules_[rule];
    if (def.defined) {
        fail(offset, "rule " + quote_for_message(def.name) + " is defined twice (first at " +
                         grammar_position(source_, def.offset) + ")");
    }
    def.alternatives = std::move(alternatives);
    def.defined = true;
    def.offset = offset;
}

uint32_t GrammarBuilder::synthesize(std::string_view base, size_t offset) {
    charge(1, offset);
    const auto id = static_cast<uint32_t>(rules_.size());
    rules_.push_back(RuleDef{std::string(base) + "_" + std::to_string(id), {}, false, offset});
    return id;
}

uint32_t GrammarBuilder::code_set(CodeRanges ranges, bool negated) {
    for (auto& [lo, hi] : ranges) hi = std::min(hi, kMaxCodePoint);
    std::erase_if(ranges, [](const auto& r) { return r.first > r.second; });
    std::sort(ranges.begin(), ranges.end());
    CodeRanges merged;
    for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second + 1) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    if (negated) {
        CodeRanges complement;
        char32_t next = 0;
        for (const auto& [lo, hi] : merged) {
            if (lo > next) complement.emplace_back(next, lo - 1);
            next = hi + 1;
        }
        if (next <= kMaxCodePoint) complement.emplace_back(next, kMaxCodePoint);
        merged = std::move(complement);
    }
    auto [it, inserted] = code_set_ids_.emplace(merged, static_cast<uint32_t>(code_sets_.size()));
    if (inserted) code_sets_.push_back(std::move(merged));
    return it->second;
}

void GrammarBuilder::check_defined() const {
    if (rule_ids_.find("root") == rule_ids_.end() || !rules_[rule_ids_.at("root")].defined) {
        throw Error(ErrorCode::Format, "grammar: no rule named \"root\" (the start rule)");
    }
    // Report the undefined rule referenced first in the text.
    const RuleDef* first = nullptr;
    for (const RuleDef& def : rules_) {
        if (!def.defined && (first == nullptr || def.offset < first->offset)) first = &def;
    }
    if (first != nullptr) fail(first->offset, "undefined rule " + quote_for_message(first->name));
}

// Which rules can match the empty string: a worklist over "alternatives whose items are
// all nullable", linear in the grammar's size.
std::vector<bool> GrammarBuilder::nullable_rules() const {
    struct Alt {
        uint32_t rule;
        size_t pending;  // items not yet known nullable
    };
    std::vector<Alt> alts;
    std::vector<std::vector<uint32_t>> waiting(rules_.size());  // rule -> alts (one per use)
    std::vector<uint32_t> work;
    std::vector<bool> nullable(rules_.size(), false);
    auto mark = [&](uint32_t rule) {
        if (!nullable[rule]) {
            nullable[rule] = true;
            work.push_back(rule);
        }
    };
    for (uint32_t r = 0; r < rules_.size(); ++r) {
        for (const Sequence& seq : rules_[r].alternatives) {
            bool has_chars =
                std::any_of(seq.begin(), seq.end(), [](const Item& i) { return !i.is_rule; });
            if (has_chars) continue;  // a character is never empty
            const auto alt = static_cast<uint32_t>(alts.size());
            alts.push_back(Alt{r, seq.size()});
            for (const Item& item : seq) waiting[item.id].push_back(alt);
            if (seq.empty()) mark(r);
        }
    }
    while (!work.empty()) {
        const uint32_t rule = work.back();
        work.pop_back();
        for (uint32_t alt : waiting[rule]) {
            if (--alts[alt].pending == 0) mark(alts[alt].rule);
        }
    }
    return nullable;
}

void GrammarBuilder::check_left_recursion() const {
    const std::vector<bool> nullable = nullable_rules();
    // Edges A -> B where B can be reached from A's start without consuming a byte.
    std::vector<std::vector<uint32_t>> edges(rules_.size());
    for (uint32_t r = 0; r < rules_.size(); ++r) {
        for (const Sequence& seq : rules_[r].alternatives) {
            for (const Item& item : seq) {
                if (!item.is_rule) break;
                edges[r].push_back(item.id);
                if (!nullable[item.id]) break;
            }
        }
    }
    // Iterative depth-first search; an edge back to a rule on the path is a cycle.
    enum : uint8_t { Unvisited, OnPath, Done };
    std::vector<uint8_t> state(rules_.size(), Unvisited);
    std::vector<std::pair<uint32_t, size_t>> path;  // (rule, next edge index)
    for (uint32_t start = 0; start < rules_.size(); ++start) {
        if (state[start] != Unvisited) continue;
        path.emplace_back(start, 0);
        state[start] = OnPath;
        while (!path.empty()) {
            auto& [rule, next] = path.back();
            if (next == edges[rule].size()) {
                state[rule] = Done;
                path.pop_back();
                continue;
            }
            const uint32_t to = edges[rule][next++];
            if (state[to] == OnPath) {
                std::string cycle;
                size_t from = 0;
                while (path[from].first != to) ++from;
                for (size_t i = from; i < path.size(); ++i) {
                    cycle += rules_[path[i].first].name + " -> ";
                }
                cycle += rules_[to].name;
                fail(rules_[to].offset, "rule " + quote_for_message(rules_[to].name) +
                                            " is left-recursive (" + cycle +
                                            "): it can reach itself before matching a character; "
                                            "write the repetition with * or + instead");
            }
            if (state[to] == Unvisited) {
                state[to] = OnPath;
                path.emplace_back(to, 0);
            }
        }
    }
}

std::shared_ptr<const Grammar> GrammarBuilder::build() const {
    check_defined();
    check_left_recursion();

    Grammar::Parts parts;
    std::map<std::array<uint64_t, 4>, uint32_t> class_ids;
    auto class_id = [&](const ByteClass& cls) {
        auto [it, inserted] =
            class_ids.emplace(cls.bits, static_cast<uint32_t>(parts.classes.size()));
        if (inserted) parts.classes.push_back(cls);
        return it->second;
    };
    // Each code set: inlined when it is one byte sequence, else a rule of its own.
    struct LoweredSet {
        std::vector<ByteSequence> sequences;
        uint32_t rule = 0;  // when sequences.size() > 1
    };
    std::vector<LoweredSet> lowered(code_sets_.size());
    auto n_rules = static_cast<uint32_t>(rules_.size());
    for (size_t s = 0; s < code_sets_.size(); ++s) {
        lowered[s].sequences = byte_sequences(code_sets_[s]);
        if (lowered[s].sequences.empty()) {
            lowered[s].sequences.push_back({ByteClass{}});  // matches nothing
        }
        if (lowered[s].sequences.size() > 1) lowered[s].rule = n_rules++;
    }

    auto emit_alternative = [&](auto&& emit_items) {
        parts.alt_starts.push_back(static_cast<uint32_t>(parts.elements.size()));
        emit_items();
        parts.elements.push_back(GrammarElement{GrammarOp::End, 0});
        if (parts.elements.size() > kMaxGrammarElements) {
            throw Error(ErrorCode::OutOfRange, "grammar: compiled to more than " +
                                                   std::to_string(kMaxGrammarElements) +
                                                   " elements");
        }
    };
    for (const RuleDef& def : rules_) {
        parts.rule_first_alt.push_back(static_cast<uint32_t>(parts.alt_starts.size()));
        parts.rule_names.push_back(def.name);
        for (const Sequence& seq : def.alternatives) {
            emit_alternative([&] {
                for (const Item& item : seq) {
                    if (item.is_rule) {
                        parts.elements.push_back(GrammarElement{GrammarOp::Rule, item.id});
                        continue;
                    }
                    const LoweredSet& set = lowered[item.id];
                    if (set.sequences.size() > 1) {
                        parts.elements.push_back(GrammarElement{GrammarOp::Rule, set.rule});
                        continue;
                    }
                    for (const ByteClass& cls : set.sequences.front()) {
                        parts.elements.push_back(GrammarElement{GrammarOp::Bytes, class_id(cls)});
                    }
                }
            });
        }
    }
    for (const LoweredSet& set : lowered) {
        if (set.sequences.size() <= 1) continue;
        parts.rule_first_alt.push_back(static_cast<uint32_t>(parts.alt_starts.size()));
        parts.rule_names.push_back("chars_" + std::to_string(set.rule));
        for (const ByteSequence& seq : set.sequences) {
            emit_alternative([&] {
                for (const ByteClass& cls : seq) {
                    parts.elements.push_back(GrammarElement{GrammarOp::Bytes, class_id(cls)});
                }
            });
        }
    }
    parts.rule_first_alt.push_back(static_cast<uint32_t>(parts.alt_starts.size()));
    parts.root = rule_ids_.at("root");
    return std::make_shared<const Grammar>(std::move(parts));
}

}  // namespace loom::runtime

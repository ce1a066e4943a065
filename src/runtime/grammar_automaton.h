// GrammarAutomaton: a grammar's pushdown automaton over bytes, determinized lazily.
//
// A parse position is a pushdown stack (as in llama.cpp's grammar sampler): the element
// to match next on top, below it where to continue when the top's rule ends. Stacks are
// hash-consed into a tree of nodes (position, parent), so a stack is one StackId and two
// stacks are equal exactly when their ids are. A state is the set of stacks the input so
// far can be in, every top a byte class (or the empty stack: the grammar may end); it is
// interned too, so each distinct state is computed once. Transitions are cached in one
// 256-entry row per state: after warm-up, consuming a byte is one array read, which is
// what makes walking the vocabulary trie cheap (grammar_matcher.cpp).
//
//   GrammarAutomaton a(grammar);
//   StateId s = a.initial();
//   for (uint8_t b : bytes) if ((s = a.next(s, b)) == GrammarAutomaton::kDead) break;
//   bool complete = a.can_end(s);
//
// Memory stays bounded: past kMaxStates states or kMaxNodes stack nodes,
// needs_compaction() turns true and the owner calls compact() with the states it still
// holds; everything else (caches) is dropped and rebuilt on demand.
//
// Errors: next() throws loom::Error(OutOfRange) when one state would hold more than
// kMaxStacks stacks (a grammar so ambiguous that matching it would explode); the
// automaton is unchanged then. Left-recursive grammars never get here (Grammar rejects
// them), so expanding rules always terminates.
//
// Not thread-safe: one automaton per sequence. Not here: tokens (grammar_matcher.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "runtime/grammar.h"

namespace loom::runtime {

class GrammarAutomaton {
public:
    using StateId = uint32_t;
    using StackId = uint32_t;
    static constexpr StateId kDead = 0;        // no stack left: the input was rejected
    static constexpr StackId kEmptyStack = 0;  // the grammar is complete here
    static constexpr size_t kMaxStacks = 4096;
    static constexpr size_t kMaxStates = 8192;  // 8 MiB of transition rows
    static constexpr size_t kMaxNodes = 1u << 18;

    explicit GrammarAutomaton(std::shared_ptr<const Grammar> grammar);

    const Grammar& grammar() const { return *grammar_; }
    StateId initial() const { return initial_; }
    // The state after consuming only the end (the empty stack alone).
    StateId end_state();

    StateId next(StateId state, uint8_t byte) {
        const size_t slot = size_t{state} * 256 + byte;
        StateId to = transitions_[slot];
        if (to != kUnknown) return to;
        to = compute_next(state, byte);
        transitions_[slot] = to;
        return to;
    }

    // The grammar may end in this state.
    bool can_end(StateId state) const {
        const State& s = states_[state];
        return s.count > 0 && stacks_[s.first] == kEmptyStack;
    }
    // Nothing but the end is possible.
    bool only_end(StateId state) const {
        const State& s = states_[state];
        return s.count == 1 && stacks_[s.first] == kEmptyStack;
    }
    // The stacks of a state, sorted (kEmptyStack first when present).
    std::span<const StackId> stacks(StateId state) const {
        return std::span<const StackId>(stacks_).subspan(states_[state].first,
                                                         states_[state].count);
    }
    // Grammar position of the top of a (non-empty) stack: a Bytes element.
    uint32_t top(StackId stack) const { return nodes_[stack].pos; }

    size_t state_count() const { return states_.size(); }
    bool needs_compaction() const {
        return states_.size() > kMaxStates || nodes_.size() > kMaxNodes;
    }
    // Drops every state and stack not in use by keep (and the initial state); the ids in
    // keep are rewritten to their new values. Counts generations so owners of caches
    // keyed by state id know to drop them.
    void compact(std::span<StateId> keep);
    uint64_t generation() const { return generation_; }

private:
    static constexpr StateId kUnknown = UINT32_MAX;

    struct Node {
        uint32_t pos = 0;    // element to match next
        StackId parent = 0;  // the rest of the stack
    };
    struct State {
        uint32_t first = 0;  // into stacks_
        uint32_t count = 0;
    };

    void reset_tables();
    StackId intern_node(uint32_t pos, StackId parent);
    // The stack that continues after the element at node's top matched.
    StackId after(StackId node);
    // Expands rule references on top of stack until every top is a byte class (or the
    // stack is empty); adds the results to out (each stack once per stamp).
    void close(StackId stack, std::vector<StackId>& out);
    StateId intern_state(std::vector<StackId>& stacks);
    StateId compute_next(StateId state, uint8_t byte);

    std::shared_ptr<const Grammar> grammar_;
    std::vector<Node> nodes_;
    std::unordered_map<uint64_t, StackId> node_ids_;  // (pos << 32 | parent) -> id
    std::vector<State> states_;
    std::vector<StackId> stacks_;
    std::unordered_multimap<uint64_t, StateId> state_ids_;  // hash of the stacks -> ids
    std::vector<StateId> transitions_;                      // 256 per state
    StateId initial_ = kDead;
    uint64_t generation_ = 0;
    // Scratch of close(): visit stamps per node, the work list, the new state's stacks.
    std::vector<uint32_t> visited_;
    uint32_t stamp_ = 0;
    std::vector<StackId> work_;
    std::vector<StackId> scratch_;
};

}  // namespace loom::runtime

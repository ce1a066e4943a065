// The lazily determinized pushdown automaton (see grammar_automaton.h).
#include "runtime/grammar_automaton.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/error.h"

namespace loom::runtime {

GrammarAutomaton::GrammarAutomaton(std::shared_ptr<const Grammar> grammar)
    : grammar_(std::move(grammar)) {
    reset_tables();
    ++stamp_;
    scratch_.clear();
    for (uint32_t alt : grammar_->alternatives(grammar_->root())) {
        close(grammar_->element(alt).op == GrammarOp::End ? kEmptyStack
                                                          : intern_node(alt, kEmptyStack),
              scratch_);
    }
    initial_ = intern_state(scratch_);
}

void GrammarAutomaton::reset_tables() {
    nodes_.assign(1, Node{});  // id 0: the empty stack
    node_ids_.clear();
    visited_.assign(1, 0);
    stamp_ = 0;
    states_.assign(1, State{});  // id 0: dead, no stacks
    stacks_.clear();
    state_ids_.clear();
    transitions_.assign(256, kDead);  // dead stays dead
}

GrammarAutomaton::StackId GrammarAutomaton::intern_node(uint32_t pos, StackId parent) {
    const uint64_t key = (uint64_t{pos} << 32) | parent;
    auto [it, inserted] = node_ids_.emplace(key, static_cast<StackId>(nodes_.size()));
    if (inserted) {
        nodes_.push_back(Node{pos, parent});
        visited_.push_back(0);
    }
    return it->second;
}

GrammarAutomaton::StackId GrammarAutomaton::after(StackId node) {
    const Node n = nodes_[node];
    // Nothing left in this alternative: continue with the rest of the stack directly,
    // so that right recursion (how repetitions are written) does not deepen the stack.
    if (grammar_->element(n.pos + 1).op == GrammarOp::End) return n.parent;
    return intern_node(n.pos + 1, n.parent);
}

void GrammarAutomaton::close(StackId stack, std::vector<StackId>& out) {
    work_.clear();
    work_.push_back(stack);
    while (!work_.empty()) {
        const StackId id = work_.back();
        work_.pop_back();
        if (visited_[id] == stamp_) continue;
        visited_[id] = stamp_;
        if (id == kEmptyStack) {
            out.push_back(id);
            continue;
        }
        const GrammarElement e = grammar_->element(nodes_[id].pos);
        if (e.op == GrammarOp::Bytes) {
            out.push_back(id);
            continue;
        }
        // A rule reference on top: replace it by each of the rule's alternatives, each
        // continuing with what follows the reference.
        const StackId cont = after(id);
        for (uint32_t alt : grammar_->alternatives(e.arg)) {
            work_.push_back(grammar_->element(alt).op == GrammarOp::End ? cont
                                                                        : intern_node(alt, cont));
        }
    }
}

GrammarAutomaton::StateId GrammarAutomaton::intern_state(std::vector<StackId>& stacks) {
    if (stacks.empty()) return kDead;
    std::sort(stacks.begin(), stacks.end());
    stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
    if (stacks.size() > kMaxStacks) {
        throw Error(ErrorCode::OutOfRange,
                    "grammar: more than " + std::to_string(kMaxStacks) +
                        " parses are open at once (the grammar is too ambiguous to match)");
    }
    uint64_t hash = 1469598103934665603ull;  // FNV-1a over the ids
    for (StackId id : stacks) hash = (hash ^ id) * 1099511628211ull;
    auto [begin, end] = state_ids_.equal_range(hash);
    for (auto it = begin; it != end; ++it) {
        std::span<const StackId> existing = this->stacks(it->second);
        if (std::equal(existing.begin(), existing.end(), stacks.begin(), stacks.end())) {
            return it->second;
        }
    }
    const auto id = static_cast<StateId>(states_.size());
    states_.push_back(
        State{static_cast<uint32_t>(stacks_.size()), static_cast<uint32_t>(stacks.size())});
    stacks_.insert(stacks_.end(), stacks.begin(), stacks.end());
    transitions_.resize(transitions_.size() + 256, kUnknown);
    state_ids_.emplace(hash, id);
    return id;
}

GrammarAutomaton::StateId GrammarAutomaton::compute_next(StateId state, uint8_t byte) {
    if (++stamp_ == 0) {  // wrapped: old stamps could collide
        std::fill(visited_.begin(), visited_.end(), 0);
        stamp_ = 1;
    }
    scratch_.clear();
    const State s = states_[state];
    for (uint32_t i = s.first; i < s.first + s.count; ++i) {
        const StackId id = stacks_[i];
        if (id == kEmptyStack) continue;
        if (grammar_->class_contains(grammar_->element(nodes_[id].pos).arg, byte)) {
            close(after(id), scratch_);
        }
    }
    return intern_state(scratch_);
}

GrammarAutomaton::StateId GrammarAutomaton::end_state() {
    scratch_.assign(1, kEmptyStack);
    return intern_state(scratch_);
}

void GrammarAutomaton::compact(std::span<StateId> keep) {
    const std::vector<Node> old_nodes = std::move(nodes_);
    const std::vector<State> old_states = std::move(states_);
    const std::vector<StackId> old_stacks = std::move(stacks_);
    reset_tables();

    constexpr StackId kUnmapped = UINT32_MAX;
    std::vector<StackId> map(old_nodes.size(), kUnmapped);
    map[kEmptyStack] = kEmptyStack;
    std::vector<StackId> chain;
    auto remap_stack = [&](StackId old) {
        // A parent always has a lower id than its children: map the unmapped part of the
        // chain from the bottom up.
        chain.clear();
        for (StackId cur = old; map[cur] == kUnmapped; cur = old_nodes[cur].parent) {
            chain.push_back(cur);
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            map[*it] = intern_node(old_nodes[*it].pos, map[old_nodes[*it].parent]);
        }
        return map[old];
    };
    auto remap_state = [&](StateId old) {
        if (old == kDead) return kDead;
        std::vector<StackId> stacks;
        const State s = old_states[old];
        for (uint32_t i = s.first; i < s.first + s.count; ++i) {
            stacks.push_back(remap_stack(old_stacks[i]));
        }
        return intern_state(stacks);
    };
    initial_ = remap_state(initial_);
    for (StateId& s : keep) s = remap_state(s);
    ++generation_;
}

}  // namespace loom::runtime

// Token-level matching over the byte automaton (see grammar_matcher.h).
#include "runtime/grammar_matcher.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/format.h"

namespace loom::runtime {

using tokenizer::TokenId;
using StateId = GrammarAutomaton::StateId;

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                               std::shared_ptr<const TokenTrie> tokens)
    : tokens_(std::move(tokens)), automaton_(std::move(grammar)), state_(automaton_.initial()) {
    depth_states_.resize(tokens_->max_depth() + 1);
}

StateId GrammarMatcher::walk(StateId state, std::string_view bytes) {
    for (char c : bytes) {
        state = automaton_.next(state, static_cast<uint8_t>(c));
        if (state == GrammarAutomaton::kDead) break;
    }
    return state;
}

bool GrammarMatcher::accepts(TokenId id) {
    if (tokens_->is_eog(id)) return can_end();
    const std::string_view piece = tokens_->piece(id);
    return !piece.empty() && walk(state_, piece) != GrammarAutomaton::kDead;
}

bool GrammarMatcher::accepts_bytes(std::string_view bytes) {
    return walk(state_, bytes) != GrammarAutomaton::kDead;
}

void GrammarMatcher::accept(TokenId id) {
    if (tokens_->is_eog(id)) {
        if (!can_end()) {
            throw Error(ErrorCode::InvalidArgument, "grammar: end-of-generation token " +
                                                        std::to_string(id) +
                                                        " before the grammar is complete");
        }
        state_ = automaton_.end_state();
        return;
    }
    const std::string_view piece = tokens_->piece(id);
    const StateId next = piece.empty() ? GrammarAutomaton::kDead : walk(state_, piece);
    if (next == GrammarAutomaton::kDead) {
        throw Error(
            ErrorCode::InvalidArgument,
            "grammar: token " + std::to_string(id) +
                (piece.empty() ? std::string(" (not text)") : " " + quote_for_message(piece)) +
                " does not fit the grammar here");
    }
    state_ = next;
    compact_if_needed();
}

void GrammarMatcher::accept_bytes(std::string_view bytes) {
    const StateId next = walk(state_, bytes);
    if (next == GrammarAutomaton::kDead) {
        throw Error(ErrorCode::InvalidArgument,
                    "grammar: text " + quote_for_message(bytes) + " does not fit the grammar here");
    }
    state_ = next;
    compact_if_needed();
}

void GrammarMatcher::compact_if_needed() {
    if (automaton_.needs_compaction()) automaton_.compact(std::span<StateId>(&state_, 1));
}

void GrammarMatcher::apply(std::span<float> logits) {
    const std::vector<uint64_t>& bits = mask();
    const size_t n = std::min(logits.size(), tokens_->n_vocab());
    for (size_t i = 0; i < n; ++i) {
        if (((bits[i >> 6] >> (i & 63)) & 1) == 0) {
            logits[i] = -std::numeric_limits<float>::infinity();
        }
    }
    for (size_t i = n; i < logits.size(); ++i) logits[i] = -std::numeric_limits<float>::infinity();
}

const std::vector<uint64_t>& GrammarMatcher::mask() {
    ++use_counter_;
    for (CachedMask& m : masks_) {
        if (m.state == state_ && m.generation == automaton_.generation()) {
            m.last_use = use_counter_;
            return m.bits;
        }
    }
    CachedMask* slot = nullptr;
    if (masks_.size() < kCachedMasks) {
        slot = &masks_.emplace_back();
    } else {
        slot = &*std::min_element(
            masks_.begin(), masks_.end(),
            [](const CachedMask& a, const CachedMask& b) { return a.last_use < b.last_use; });
    }
    slot->generation = UINT64_MAX;  // invalid until complete (compute_mask may throw)
    compute_mask(slot->bits);
    slot->state = state_;
    slot->generation = automaton_.generation();
    slot->last_use = use_counter_;
    return slot->bits;
}

// Depth-first over the trie in preorder: the state after a node's bytes is derived from
// its parent's (depth_states_[depth - 1]); a dead state skips the node's whole subtree.
void GrammarMatcher::compute_mask(std::vector<uint64_t>& bits) {
    const TokenTrie& trie = *tokens_;
    bits.assign((trie.n_vocab() + 63) / 64, 0);
    std::span<const TokenTrie::Node> nodes = trie.nodes();
    std::span<const TokenId> tokens = trie.tokens_by_node();
    depth_states_[0] = state_;
    const size_t n_nodes = trie.node_count();
    size_t i = 0;
    while (i < n_nodes) {
        const TokenTrie::Node& node = nodes[i];
        const StateId s = automaton_.next(depth_states_[node.depth - 1], node.byte);
        if (s == GrammarAutomaton::kDead) {
            i = node.subtree_end;
            continue;
        }
        depth_states_[node.depth] = s;
        for (uint32_t t = node.first_token; t < nodes[i + 1].first_token; ++t) {
            const auto id = static_cast<size_t>(tokens[t]);
            bits[id >> 6] |= uint64_t{1} << (id & 63);
        }
        if (automaton_.needs_compaction()) {
            // Keep the states of the open path (the current state is depth 0).
            automaton_.compact(std::span<StateId>(depth_states_.data(), size_t{node.depth} + 1));
            state_ = depth_states_[0];
        }
        ++i;
    }
    if (can_end()) {
        for (TokenId id : trie.eog_ids()) {
            bits[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63);
        }
    }
}

}  // namespace loom::runtime

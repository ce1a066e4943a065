// GrammarMatcher: where one sequence stands in a grammar, token by token. It says which
// tokens may come next (a logit mask), checks a single sampled token cheaply, and
// advances as tokens are accepted. One per sequence; the Grammar and the TokenTrie it
// reads are immutable and shared.
//
//   auto grammar = Grammar::parse(text);                          // runtime/grammar.h
//   auto trie = TokenTrie::from_tokenizer(model->tokenizer());    // once per model
//   GrammarMatcher matcher(grammar, trie);
//   TokenId next = sampler.sample(logits, matcher);               // runtime/sampler.h
//   if (next == kNoToken) ...                                     // the grammar allows none
//   if (trie->is_eog(next)) break;
//   matcher.accept(next);
//   if (matcher.done()) break;                                    // only the end is left
//
// Tokens are matched by their bytes (TokenTrie): a token may span several grammar items
// and may end in the middle of a multi-byte character, whose remaining bytes the next
// token must then supply. Tokens that are not text (control, unused) never match.
// End-of-generation tokens match exactly when the grammar can end here (can_end()).
//
// Cost: accepts() walks the token's bytes through cached transitions (nanoseconds per
// byte once warm). apply() walks the vocabulary trie once, skipping every subtree whose
// first bytes the grammar rejects; its result is cached per automaton state, so a
// repeated state (inside an unbounded string, say) costs one pass over the logits.
// Measured on Gemma 3's 262k tokens (588k trie nodes, 2-core Zen 4): a walk where
// nearly every token fits (inside a JSON string) 1-2 ms, 7 ms when its states are new;
// at structural positions well under 1 ms; a cached mask 0.15 ms. Sampler::sample with
// a matcher masks only when the sampled token is rejected (tests/python/test_grammar.py;
// scripts/bench-grammar measures the whole: within noise of unconstrained generation).
//
// Memory, per matcher: the automaton (at most ~8 MiB of transition rows, then it
// compacts) and 8 cached masks of n_vocab bits. Not thread-safe: one per sequence; the
// Grammar and the TokenTrie may be shared across threads.
//
// Errors: accept() throws loom::Error(InvalidArgument) for a token the grammar rejects
// here, leaving the matcher unchanged. accepts(), accept() and apply() may throw
// loom::Error(OutOfRange) for a grammar too ambiguous to match (GrammarAutomaton), which
// ends the generation; the matcher is then unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/grammar.h"
#include "runtime/grammar_automaton.h"
#include "runtime/token_trie.h"

namespace loom::runtime {

class GrammarMatcher {
public:
    GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> tokens);

    // Whether the token may come next. Not const: the automaton is built lazily.
    bool accepts(tokenizer::TokenId id);
    // Advances past the token (an end-of-generation token: to the end).
    void accept(tokenizer::TokenId id);
    // Sets -inf on every token that may not come next: the tokens the grammar rejects,
    // every non-text token, end-of-generation tokens unless can_end(), and any logit past
    // the vocabulary.
    void apply(std::span<float> logits);

    // The same on raw bytes (text forced into the output; tests).
    bool accepts_bytes(std::string_view bytes);
    void accept_bytes(std::string_view bytes);

    // The text so far is a complete sentence of the grammar (it may also go on).
    bool can_end() const { return automaton_.can_end(state_); }
    // Nothing may follow but the end.
    bool done() const { return automaton_.only_end(state_); }
    // Back to the start of the grammar (caches stay valid and are kept).
    void reset() { state_ = automaton_.initial(); }

    const TokenTrie& tokens() const { return *tokens_; }

private:
    GrammarAutomaton::StateId walk(GrammarAutomaton::StateId state, std::string_view bytes);
    // The accepted tokens of the current state as a bitset over the vocabulary.
    const std::vector<uint64_t>& mask();
    void compute_mask(std::vector<uint64_t>& bits);
    void compact_if_needed();

    struct CachedMask {
        GrammarAutomaton::StateId state = GrammarAutomaton::kDead;
        uint64_t generation = UINT64_MAX;  // automaton generation it was computed in
        uint64_t last_use = 0;
        std::vector<uint64_t> bits;
    };
    static constexpr size_t kCachedMasks = 8;

    std::shared_ptr<const TokenTrie> tokens_;
    GrammarAutomaton automaton_;
    GrammarAutomaton::StateId state_;
    std::vector<GrammarAutomaton::StateId> depth_states_;  // trie walk: state per depth
    std::vector<CachedMask> masks_;
    uint64_t use_counter_ = 0;
};

}  // namespace loom::runtime

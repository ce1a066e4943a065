// Sampler: turns logits into the next token through llama.cpp's common sampler chain:
//
//   logit bias -> penalties -> top-k -> typical -> top-p -> min-p -> temperature -> draw
//
// Temperature <= 0 is greedy: the argmax after logit bias and penalties (lowest id on
// ties); the filters in between do not run then. The RNG is the sampler's own
// (mt19937_64, seeded): the same seed, logits and accepted tokens give the same tokens.
//
// Semantics follow llama.cpp's src/llama-sampling.cpp (llama_sampler_logit_bias,
// _penalties, _top_k, _typical, _top_p, _min_p, _temp, _dist); tests/runtime/data/
// sampler_golden.txt holds llama.cpp's own outputs (scripts/gen_sampler_golden.py).
// Grammars: sample(logits, matcher) draws as above and keeps the token when the grammar
// accepts it (the common case: one cheap check); otherwise it masks the original logits
// with the grammar and draws again through the whole chain, as llama.cpp's common
// sampler does. Without a grammar nothing changes.
// Not here: mirostat, DRY, XTC, stop strings (runtime/stop_strings.h), the grammar
// itself (runtime/grammar_matcher.h).
//
//   Sampler sampler(params, {.n_vocab = hparams.n_vocab, .n_ctx = ctx.n_ctx()});
//   for (TokenId id : prompt) sampler.accept(id);        // penalties see the prompt
//   TokenId next = sampler.sample(logits);
//   sampler.accept(next);                                 // and each generated token
//
//   TokenId next = sampler.sample(logits, matcher);       // constrained (kNoToken: none fits)
//   sampler.accept(next); matcher.accept(next);
//
// Memory: the candidate list, the penalty history (a ring of the last penalty_last_n
// tokens) and the scratch buffers are reserved by the constructor when the limits are
// known (otherwise at the first sample); sample() and accept() allocate nothing after,
// except that the constrained sample() sizes its copy of the logits at its first mask
// (the matcher allocates as its automaton grows: grammar_matcher.h).
//
// Errors: the constructor throws loom::Error(InvalidArgument) for a parameter outside
// its range, naming it (a NaN, repeat_penalty <= 0, penalty_last_n < -1, -1 without
// n_ctx, a logit bias on a token outside [0, n_vocab) or of +inf/NaN, every token
// banned). sample(), accept() and reset() do not throw, except that the constrained
// sample() passes on the matcher's errors (GrammarMatcher::apply).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace loom::runtime {

// Added to one token's logit before anything else; -INFINITY bans the token. Several
// entries for the same token add up (as llama.cpp's).
struct LogitBias {
    tokenizer::TokenId token = 0;
    float bias = 0.0f;
};

struct SamplerParams {
    float temperature = 0.8f;        // <= 0: greedy
    int32_t top_k = 40;              // <= 0: off
    float top_p = 0.95f;             // >= 1: off
    float min_p = 0.05f;             // <= 0: off
    float typical_p = 1.0f;          // >= 1: off
    float repeat_penalty = 1.0f;     // 1: off; > 0
    float frequency_penalty = 0.0f;  // 0: off; subtracted once per occurrence in the window
    float presence_penalty = 0.0f;   // 0: off; subtracted once if the token is in the window
    int32_t penalty_last_n = 64;     // tokens the penalties look back over; 0: off, -1: n_ctx
    std::vector<LogitBias> logit_bias;
    uint64_t seed = 0;
};

// Sizes the sampler may reserve for up front; 0 means not known (buffers are then sized
// by the first sample and the logit-bias ids are not checked against the vocabulary).
struct SamplerLimits {
    uint32_t n_vocab = 0;  // logits per sample
    uint32_t n_ctx = 0;    // history capacity when penalty_last_n is -1 (required then)
};

// One token of the distribution the draw uses.
struct TokenProb {
    tokenizer::TokenId id;
    float logit;  // after bias, penalties and temperature
    float p;      // probability among the kept tokens
};

class GrammarMatcher;

class Sampler {
public:
    explicit Sampler(const SamplerParams& params, const SamplerLimits& limits = {});

    // The next token for these logits (n_vocab of them; kNoToken when there are none).
    // Does not record it: call accept() with the token that is actually used.
    tokenizer::TokenId sample(std::span<const float> logits) noexcept;

    // The next token that the grammar accepts: the draw above if it fits, else a second
    // draw from the logits with every token the grammar rejects banned. kNoToken when
    // the grammar accepts no token. Advances neither the grammar nor the history.
    tokenizer::TokenId sample(std::span<const float> logits, GrammarMatcher& grammar);

    // The chain without the draw: the kept tokens, sorted by logit (descending, lowest id
    // on ties), with their probabilities. Greedy: the one argmax token with p = 1. Valid
    // until the next call of apply() or sample(). Tokens whose logit is -inf (banned) or
    // NaN are never kept; if that is every token, token 0 comes back alone.
    std::span<const TokenProb> apply(std::span<const float> logits) noexcept;

    // Records a token in the penalty history (the prompt's tokens, then each generated
    // one). A no-op when penalty_last_n is 0.
    void accept(tokenizer::TokenId id) noexcept;
    // Forgets the penalty history. The RNG continues where it was.
    void reset() noexcept;

    const SamplerParams& params() const { return params_; }

private:
    void reserve(size_t n_vocab);
    void apply_penalties() noexcept;
    void apply_top_k() noexcept;
    void apply_typical() noexcept;
    void apply_top_p() noexcept;
    void apply_min_p() noexcept;
    void softmax() noexcept;

    SamplerParams params_;
    bool penalties_on_ = false;  // penalty_last_n != 0 and some penalty is not neutral
    std::mt19937_64 rng_;
    // Candidates: n_vocab entries in id order after they are built, then filtered.
    std::vector<TokenProb> candidates_;
    // Penalty history: a ring of capacity history_.size(), the oldest at history_first_.
    std::vector<tokenizer::TokenId> history_;
    size_t history_first_ = 0;
    size_t history_size_ = 0;
    // Occurrences per token id while penalties are applied; all zero between samples.
    std::vector<int32_t> counts_;
    // Typical: (distance from the entropy, position in candidates_) per candidate.
    std::vector<std::pair<float, uint32_t>> typical_order_;
    // Constrained sampling's copy of the logits with the grammar's mask applied.
    std::vector<float> masked_;
};

}  // namespace loom::runtime

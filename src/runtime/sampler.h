// Sampler: turns logits into the next token, with llama.cpp's default chain order:
// top-k -> top-p -> min-p -> temperature -> draw from the distribution. Temperature
// <= 0 is greedy (argmax, lowest id on ties). The RNG is the sampler's own, seeded:
// the same seed and logits give the same tokens.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "tokenizer/vocab.h"

namespace loom::runtime {

struct SamplerParams {
    float temperature = 0.8f;
    int32_t top_k = 40;    // <= 0: off
    float top_p = 0.95f;   // >= 1: off
    float min_p = 0.05f;   // <= 0: off
    uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplerParams& params);
    tokenizer::TokenId sample(std::span<const float> logits);

private:
    struct Candidate {
        tokenizer::TokenId id;
        float logit;
        float p;
    };
    SamplerParams params_;
    std::mt19937_64 rng_;
    std::vector<Candidate> candidates_;  // reused: no allocation per token after the first
};

}  // namespace loom::runtime

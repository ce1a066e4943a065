// Sampler tests: greedy ties, the filters of the chain, seeded reproducibility, and the
// drawn frequencies against the exact distribution (seeded, so deterministic).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "runtime/sampler.h"

namespace loom::runtime {
namespace {

SamplerParams plain(float temperature, uint64_t seed = 1) {
    SamplerParams p;
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

TEST(Sampler, GreedyTakesTheLowestIdOnTies) {
    Sampler s(plain(0.0f));
    std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
    EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, TopKOfOneIsGreedy) {
    SamplerParams p = plain(1.0f);
    p.top_k = 1;
    Sampler s(p);
    std::vector<float> logits = {0.1f, 0.3f, 3.0f, 0.2f};
    for (int i = 0; i < 100; ++i) EXPECT_EQ(s.sample(logits), 2);
}

TEST(Sampler, SameSeedSameDraws) {
    std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f};
    Sampler a(plain(1.0f, 42)), b(plain(1.0f, 42));
    for (int i = 0; i < 200; ++i) EXPECT_EQ(a.sample(logits), b.sample(logits));
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
    std::vector<float> logits = {0.0f, 1.0f, 2.0f};
    for (float temperature : {1.0f, 0.5f}) {
        Sampler s(plain(temperature, 7));
        std::vector<int> counts(3, 0);
        const int n = 30000;
        for (int i = 0; i < n; ++i) ++counts[s.sample(logits)];
        double z = 0;
        for (float l : logits) z += std::exp(l / temperature);
        for (int k = 0; k < 3; ++k) {
            double p = std::exp(logits[k] / temperature) / z;
            // 5 standard deviations of a binomial count: a seeded draw, never flaky.
            EXPECT_NEAR(counts[k], n * p, 5 * std::sqrt(n * p * (1 - p))) << k << " at T=" << temperature;
        }
    }
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
    // Probabilities about 0.665, 0.245, 0.090: p = 0.7 keeps the first two.
    std::vector<float> logits = {2.0f, 1.0f, 0.0f};
    SamplerParams p = plain(1.0f, 3);
    p.top_p = 0.7f;
    Sampler s(p);
    for (int i = 0; i < 2000; ++i) EXPECT_NE(s.sample(logits), 2);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
    std::vector<float> logits = {3.0f, 0.0f, 2.9f};  // token 1 is e^-3 of the best
    SamplerParams p = plain(1.0f, 5);
    p.min_p = 0.1f;
    Sampler s(p);
    for (int i = 0; i < 2000; ++i) EXPECT_NE(s.sample(logits), 1);
}

}  // namespace
}  // namespace loom::runtime

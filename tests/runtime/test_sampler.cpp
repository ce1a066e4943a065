// Sampler tests: greedy ties, each filter of the chain with hand-computed numbers, the
// chain order, penalties and their window, logit bias and bans, seeded reproducibility,
// drawn frequencies against the exact distribution (seeded, so deterministic), no
// allocation per token, parameter checks, and llama.cpp's own results on random logits
// (data/sampler_golden.txt, written by scripts/gen_sampler_golden.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "core/error.h"
#include "runtime/sampler.h"

namespace loom::runtime {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

SamplerParams plain(float temperature, uint64_t seed = 1) {
    SamplerParams p;
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

// The kept tokens as id -> (logit, p).
std::map<tokenizer::TokenId, std::pair<float, float>> kept(std::span<const TokenProb> dist) {
    std::map<tokenizer::TokenId, std::pair<float, float>> out;
    for (const TokenProb& c : dist) out[c.id] = {c.logit, c.p};
    return out;
}

std::set<tokenizer::TokenId> ids(std::span<const TokenProb> dist) {
    std::set<tokenizer::TokenId> out;
    for (const TokenProb& c : dist) out.insert(c.id);
    return out;
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
    Sampler a(plain(1.0f, 42)), b(plain(1.0f, 42)), c(plain(1.0f, 43));
    int differ = 0;
    for (int i = 0; i < 200; ++i) {
        tokenizer::TokenId x = a.sample(logits);
        EXPECT_EQ(x, b.sample(logits));
        differ += x != c.sample(logits);
    }
    EXPECT_GT(differ, 0) << "another seed gives other draws";
}

TEST(Sampler, SameSeedSameDrawsWithPenaltiesAndAccept) {
    // The whole chain with the history fed back: the sequence depends only on the seed.
    SamplerParams p = plain(0.9f, 7);
    p.top_k = 6;
    p.top_p = 0.95f;
    p.typical_p = 0.95f;
    p.repeat_penalty = 1.3f;
    p.frequency_penalty = 0.1f;
    p.presence_penalty = 0.2f;
    p.penalty_last_n = 5;
    std::vector<float> logits = {1.0f, 0.5f, 0.9f, 0.2f, 1.1f, 0.0f, 0.7f, 0.3f};
    Sampler a(p, {.n_vocab = 8}), b(p);
    for (int i = 0; i < 300; ++i) {
        tokenizer::TokenId x = a.sample(logits);
        ASSERT_EQ(x, b.sample(logits)) << "draw " << i;
        a.accept(x);
        b.accept(x);
    }
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
            EXPECT_NEAR(counts[k], n * p, 5 * std::sqrt(n * p * (1 - p)))
                << k << " at T=" << temperature;
        }
    }
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
    // Probabilities about 0.665, 0.245, 0.090: p = 0.7 keeps the first two.
    std::vector<float> logits = {2.0f, 1.0f, 0.0f};
    SamplerParams p = plain(1.0f, 3);
    p.top_p = 0.7f;
    Sampler s(p);
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{0, 1}));
    for (int i = 0; i < 2000; ++i) EXPECT_NE(s.sample(logits), 2);
}

TEST(Sampler, TopPStopsWhereTheMassReachesPExactly) {
    // Four equal logits: p = 0.25 each, exactly; 0.25 + 0.25 reaches 0.5 (>=, as llama.cpp).
    std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f};
    SamplerParams p = plain(1.0f);
    p.top_p = 0.5f;
    Sampler s(p);
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{0, 1}))
        << "ties keep the lower ids";
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
    std::vector<float> logits = {3.0f, 0.0f, 2.9f};  // token 1 is e^-3 of the best
    SamplerParams p = plain(1.0f, 5);
    p.min_p = 0.1f;
    Sampler s(p);
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{0, 2}));
    for (int i = 0; i < 2000; ++i) EXPECT_NE(s.sample(logits), 1);
}

TEST(Sampler, ApplyReturnsTheTemperedDistributionSortedByLogit) {
    std::vector<float> logits = {0.0f, 2.0f, 1.0f};
    Sampler s(plain(0.5f));
    std::span<const TokenProb> dist = s.apply(logits);
    ASSERT_EQ(dist.size(), 3u);
    EXPECT_EQ(dist[0].id, 1);
    EXPECT_EQ(dist[1].id, 2);
    EXPECT_EQ(dist[2].id, 0);
    EXPECT_FLOAT_EQ(dist[0].logit, 4.0f);  // divided by the temperature
    const double z = 1 + std::exp(-2.0) + std::exp(-4.0);
    EXPECT_NEAR(dist[0].p, 1 / z, 1e-6);
    EXPECT_NEAR(dist[1].p, std::exp(-2.0) / z, 1e-6);
    EXPECT_NEAR(dist[2].p, std::exp(-4.0) / z, 1e-6);
}

// ---- penalties ------------------------------------------------------------------------

SamplerParams penalties(float repeat, float frequency, float presence, int32_t last_n) {
    SamplerParams p = plain(1.0f);
    p.repeat_penalty = repeat;
    p.frequency_penalty = frequency;
    p.presence_penalty = presence;
    p.penalty_last_n = last_n;
    return p;
}

TEST(Sampler, PenaltiesExactNumbers) {
    // Window of 4 after accepting 3 0 4 0 1: [0 4 0 1], so token 0 twice, 4 and 1 once.
    Sampler s(penalties(1.5f, 0.25f, 0.5f, 4));
    for (tokenizer::TokenId id : {3, 0, 4, 0, 1}) s.accept(id);
    std::vector<float> logits = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f, -3.0f};
    auto got = kept(s.apply(logits));
    ASSERT_EQ(got.size(), 6u);
    EXPECT_FLOAT_EQ(got[0].first, 2.0f / 1.5f - (2 * 0.25f + 0.5f));  // positive: divided
    EXPECT_FLOAT_EQ(got[1].first, 1.0f / 1.5f - (0.25f + 0.5f));
    EXPECT_FLOAT_EQ(got[2].first, 0.5f);                           // not in the window
    EXPECT_FLOAT_EQ(got[3].first, 0.0f);                           // fell out of it
    EXPECT_FLOAT_EQ(got[4].first, -1.0f * 1.5f - (0.25f + 0.5f));  // negative: multiplied
    EXPECT_FLOAT_EQ(got[5].first, -3.0f);
}

TEST(Sampler, PenaltyWindowIsTheLastNAccepted) {
    Sampler s(penalties(1.0f, 0.0f, 1.0f, 2));
    std::vector<float> logits(6, 0.0f);
    for (tokenizer::TokenId id : {5, 3, 1}) s.accept(id);  // 5 has left the window
    auto got = kept(s.apply(logits));
    EXPECT_FLOAT_EQ(got[5].first, 0.0f);
    EXPECT_FLOAT_EQ(got[3].first, -1.0f);
    EXPECT_FLOAT_EQ(got[1].first, -1.0f);
    for (int i = 0; i < 10; ++i) s.accept(2);  // the ring wraps many times
    got = kept(s.apply(logits));
    EXPECT_FLOAT_EQ(got[1].first, 0.0f);
    EXPECT_FLOAT_EQ(got[2].first, -1.0f);
    s.reset();
    got = kept(s.apply(logits));
    EXPECT_FLOAT_EQ(got[2].first, 0.0f) << "reset() forgets the history";
}

TEST(Sampler, PenaltyLastNZeroIsOff) {
    Sampler s(penalties(2.0f, 1.0f, 1.0f, 0));
    s.accept(0);
    std::vector<float> logits = {1.0f, 0.5f};
    EXPECT_FLOAT_EQ(kept(s.apply(logits))[0].first, 1.0f);
}

TEST(Sampler, PenaltyLastNMinusOneCoversTheContext) {
    SamplerParams p = penalties(1.0f, 1.0f, 0.0f, -1);
    EXPECT_THROW(Sampler{p}, Error) << "-1 needs n_ctx";
    Sampler s(p, {.n_vocab = 3, .n_ctx = 100});
    for (int i = 0; i < 100; ++i) s.accept(i == 0 ? 2 : 1);  // token 2 only at the start
    std::vector<float> logits = {0.0f, 0.0f, 0.0f};
    auto got = kept(s.apply(logits));
    EXPECT_FLOAT_EQ(got[2].first, -1.0f);
    EXPECT_FLOAT_EQ(got[1].first, -99.0f);
    s.accept(1);  // the 101st token pushes the first out of a 100-token context
    got = kept(s.apply(logits));
    EXPECT_FLOAT_EQ(got[2].first, 0.0f);
    EXPECT_FLOAT_EQ(got[1].first, -100.0f);
}

TEST(Sampler, HistoryTokensOutsideTheVocabularyAreIgnored) {
    Sampler s(penalties(1.0f, 0.0f, 1.0f, 8));
    for (tokenizer::TokenId id : {-1, 7, 1}) s.accept(id);
    std::vector<float> logits = {0.0f, 0.0f};
    auto got = kept(s.apply(logits));
    EXPECT_FLOAT_EQ(got[0].first, 0.0f);
    EXPECT_FLOAT_EQ(got[1].first, -1.0f);
}

TEST(Sampler, GreedyAppliesAfterPenalties) {
    Sampler s([] {
        SamplerParams p = penalties(4.0f, 0.0f, 0.0f, 8);
        p.temperature = 0.0f;
        return p;
    }());
    std::vector<float> logits = {3.0f, 2.0f, 1.0f};
    EXPECT_EQ(s.sample(logits), 0);
    s.accept(0);  // 3 / 4 = 0.75 now
    EXPECT_EQ(s.sample(logits), 1);
}

// ---- logit bias -----------------------------------------------------------------------

TEST(Sampler, LogitBiasAddsToTheLogit) {
    SamplerParams p = plain(0.0f);
    p.logit_bias = {{2, 1.5f}, {2, 0.5f}, {0, -1.0f}};  // two entries for a token add up
    Sampler s(p);
    std::vector<float> logits = {1.0f, 2.5f, 0.75f};
    EXPECT_EQ(s.sample(logits), 2);  // 0.75 + 2 = 2.75 > 2.5
    p.temperature = 1.0f;
    Sampler t(p);
    auto got = kept(t.apply(logits));
    EXPECT_FLOAT_EQ(got[2].first, 2.75f);
    EXPECT_FLOAT_EQ(got[0].first, 0.0f);
    EXPECT_FLOAT_EQ(got[1].first, 2.5f);
}

TEST(Sampler, BannedTokenIsNeverChosen) {
    std::vector<float> logits = {8.5f, 10.0f, 9.0f, 8.0f};
    SamplerParams p = plain(0.0f);
    p.logit_bias = {{1, -kInf}};
    Sampler greedy(p);
    EXPECT_EQ(greedy.sample(logits), 2) << "even greedy skips the banned argmax";
    p.temperature = 1.5f;
    p.typical_p = 0.99f;
    Sampler s(p, {.n_vocab = 4});
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{0, 2, 3}));
    for (int i = 0; i < 2000; ++i) ASSERT_NE(s.sample(logits), 1);
}

TEST(Sampler, EveryTokenBannedFallsBackToTokenZero) {
    // Unreachable through the constructor with n_vocab known (it refuses); without it,
    // sample() still returns a token rather than reading an empty list.
    SamplerParams p = plain(1.0f);
    p.logit_bias = {{0, -kInf}, {1, -kInf}};
    Sampler s(p);
    std::vector<float> logits = {1.0f, 2.0f};
    EXPECT_EQ(s.sample(logits), 0);
    EXPECT_THROW(Sampler(p, {.n_vocab = 2}), Error);
}

TEST(Sampler, NanLogitsAreNeverChosen) {
    std::vector<float> logits = {1.0f, std::nanf(""), 0.5f};
    Sampler s(plain(1.0f));
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{0, 2}));
}

// ---- typical --------------------------------------------------------------------------

TEST(Sampler, TypicalKeepsTheTokensClosestToTheEntropy) {
    // p = 1/2, 1/4, 1/8, 1/8: entropy H = 1.75 ln 2; -ln p = 1, 2, 3, 3 (times ln 2), so the
    // distances are 0.75, 0.25, 1.25, 1.25 (times ln 2): order 1, 0, then 2 and 3 (tied:
    // the higher logit, then the lower id, first).
    const float ln2 = std::log(2.0f);
    std::vector<float> logits = {-ln2, -2 * ln2, -3 * ln2, -3 * ln2};
    auto run = [&](float typical_p) {
        SamplerParams p = plain(1.0f);
        p.typical_p = typical_p;
        Sampler s(p);
        return kept(s.apply(logits));
    };
    // Cumulative 0.25 > 0.2 at once: only token 1 — typical drops the most likely token.
    auto a = run(0.2f);
    EXPECT_EQ(a.size(), 1u);
    EXPECT_TRUE(a.count(1));
    // 0.25, then 0.75 > 0.5: tokens 1 and 0, renormalized to 1/3 and 2/3.
    auto b = run(0.5f);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_NEAR(b[0].second, 2.0 / 3.0, 1e-6);
    EXPECT_NEAR(b[1].second, 1.0 / 3.0, 1e-6);
    // 0.25 is not above 0.25 (strict): token 0 must join.
    EXPECT_EQ(run(0.25f).size(), 2u);
    // 0.75, then 0.875 > 0.8: token 2 joins, 3 does not.
    auto c = run(0.8f);
    EXPECT_EQ(c.size(), 3u);
    EXPECT_TRUE(c.count(2));
    EXPECT_FALSE(c.count(3));
}

TEST(Sampler, TypicalOffAtOne) {
    SamplerParams p = plain(1.0f);
    p.typical_p = 1.0f;
    Sampler s(p);
    std::vector<float> logits = {5.0f, 0.0f, -5.0f};
    EXPECT_EQ(s.apply(logits).size(), 3u);
}

// ---- chain order ----------------------------------------------------------------------

TEST(Sampler, PenaltiesRunBeforeTopK) {
    // Top-k first would keep {0, 1}; penalizing token 0 first (3 / 4 = 0.75) keeps {1, 2}.
    SamplerParams p = penalties(4.0f, 0.0f, 0.0f, 8);
    p.top_k = 2;
    Sampler s(p);
    s.accept(0);
    std::vector<float> logits = {3.0f, 2.9f, 1.0f, 0.0f};
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{1, 2}));
}

TEST(Sampler, LogitBiasRunsBeforeTopK) {
    SamplerParams p = plain(1.0f);
    p.top_k = 1;
    p.logit_bias = {{3, 5.0f}};
    Sampler s(p);
    std::vector<float> logits = {3.0f, 2.9f, 1.0f, 0.0f};
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{3}));
}

TEST(Sampler, TopKRunsBeforeTopP) {
    // Top-p over the top-2 renormalized (0.52, 0.48) needs both to reach 0.6; over all four
    // tokens token 0 alone (0.26) would not, and 0 and 1 (0.50) would not either.
    SamplerParams p = plain(1.0f);
    p.top_k = 2;
    p.top_p = 0.6f;
    Sampler s(p);
    std::vector<float> logits = {0.08f, 0.0f, -0.01f, -0.02f};
    EXPECT_EQ(ids(s.apply(logits)), (std::set<tokenizer::TokenId>{0, 1}));
    p.top_p = 0.5f;  // 0.52 >= 0.5: only token 0 of the two
    Sampler t(p);
    EXPECT_EQ(ids(t.apply(logits)), (std::set<tokenizer::TokenId>{0}));
}

TEST(Sampler, MinPRunsBeforeTemperature) {
    // The kept set does not depend on the temperature: min-p sees the untempered logits.
    std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f};
    for (float temperature : {0.3f, 1.0f, 3.0f}) {
        SamplerParams p = plain(temperature);
        p.min_p = 0.2f;  // keeps logits >= 2 + ln 0.2 = 0.39
        Sampler s(p);
        std::set<tokenizer::TokenId> got = ids(s.apply(logits));
        EXPECT_EQ(got, (std::set<tokenizer::TokenId>{0, 1})) << "T=" << temperature;
    }
}

// ---- memory ---------------------------------------------------------------------------

class SamplerNoAllocation : public ::testing::TestWithParam<int32_t> {};

TEST_P(SamplerNoAllocation, PerToken) {
    SamplerParams p = penalties(1.2f, 0.1f, 0.1f, 16);
    p.temperature = 0.8f;
    p.top_k = GetParam();
    p.typical_p = 0.95f;
    p.top_p = 0.9f;
    p.min_p = 0.02f;
    p.logit_bias = {{3, -kInf}, {7, 1.0f}};
    std::vector<float> logits(1000);
    for (size_t i = 0; i < logits.size(); ++i)
        logits[i] = std::sin(static_cast<float>(i) * 0.37f) * 4.0f;

    // With the limits known, nothing is allocated after the constructor.
    Sampler s(p, {.n_vocab = 1000, .n_ctx = 512});
    {
        test::AllocationCounter allocations;
        for (int i = 0; i < 200; ++i) s.accept(s.sample(logits));
        EXPECT_EQ(allocations.count(), 0);
    }
    // Without them, only the first sample allocates.
    Sampler lazy(p);
    lazy.accept(lazy.sample(logits));
    {
        test::AllocationCounter allocations;
        for (int i = 0; i < 200; ++i) lazy.accept(lazy.sample(logits));
        EXPECT_EQ(allocations.count(), 0);
    }
}

// Top-k on (partial sort) and off (full sort of the vocabulary).
INSTANTIATE_TEST_SUITE_P(TopK, SamplerNoAllocation, ::testing::Values(50, 0));

TEST(Sampler, AllocationCounterSeesAllocations) {
    // The counter itself works: otherwise the test above could never fail.
    test::AllocationCounter allocations;
    std::vector<float> v(10);
    EXPECT_GT(allocations.count(), 0);
}

// ---- parameter checks -----------------------------------------------------------------

TEST(Sampler, RejectsBadParameters) {
    auto rejects = [](auto change, const std::string& needle, SamplerLimits limits = {}) {
        SamplerParams p = plain(1.0f);
        change(p);
        try {
            Sampler s(p, limits);
            ADD_FAILURE() << "accepted; expected an error naming " << needle;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    rejects([](SamplerParams& p) { p.temperature = std::nanf(""); }, "temperature");
    rejects([](SamplerParams& p) { p.typical_p = std::nanf(""); }, "typical_p");
    rejects([](SamplerParams& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty");
    rejects([](SamplerParams& p) { p.repeat_penalty = kInf; }, "repeat_penalty");
    rejects([](SamplerParams& p) { p.frequency_penalty = kInf; }, "frequency_penalty");
    rejects([](SamplerParams& p) { p.presence_penalty = std::nanf(""); }, "presence_penalty");
    rejects([](SamplerParams& p) { p.penalty_last_n = -2; }, "penalty_last_n");
    rejects([](SamplerParams& p) { p.logit_bias = {{-1, 1.0f}}; }, "token -1");
    rejects([](SamplerParams& p) { p.logit_bias = {{5, kInf}}; }, "token 5");
    rejects([](SamplerParams& p) { p.logit_bias = {{5, std::nanf("")}}; }, "token 5");
    rejects([](SamplerParams& p) { p.logit_bias = {{10, 1.0f}}; }, "token 10", {.n_vocab = 10});
    SamplerParams ok = plain(1.0f);
    ok.logit_bias = {{9, -kInf}};
    EXPECT_NO_THROW(Sampler(ok, {.n_vocab = 10}));
}

// ---- llama.cpp's results --------------------------------------------------------------

struct GoldenCase {
    std::string name;
    SamplerParams params;
    std::vector<tokenizer::TokenId> history;
    std::vector<float> logits;
    std::vector<TokenProb> kept;
};

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

float to_float(const std::string& s) {
    return std::strtof(s.c_str(), nullptr);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, sep)) out.push_back(part);
    return out;
}

std::vector<GoldenCase> read_golden() {
    const std::string path = std::string(LOOM_TESTS_DIR) + "/runtime/data/sampler_golden.txt";
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::vector<GoldenCase> cases;
    GoldenCase c;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> w = words(line);
        if (w.empty()) continue;
        const std::string& key = w[0];
        if (key == "case") {
            c = GoldenCase{};
            c.name = w.at(1);
        } else if (key == "params") {
            SamplerParams& p = c.params;
            p.temperature = to_float(w.at(1));
            p.top_k = std::stoi(w.at(2));
            p.top_p = to_float(w.at(3));
            p.min_p = to_float(w.at(4));
            p.typical_p = to_float(w.at(5));
            p.repeat_penalty = to_float(w.at(6));
            p.frequency_penalty = to_float(w.at(7));
            p.presence_penalty = to_float(w.at(8));
            p.penalty_last_n = std::stoi(w.at(9));
        } else if (key == "history") {
            for (size_t i = 1; i < w.size(); ++i) c.history.push_back(std::stoi(w[i]));
        } else if (key == "bias") {
            for (size_t i = 1; i < w.size(); ++i) {
                std::vector<std::string> f = split(w[i], ':');
                c.params.logit_bias.push_back({std::stoi(f.at(0)), to_float(f.at(1))});
            }
        } else if (key == "logits") {
            for (size_t i = 1; i < w.size(); ++i) c.logits.push_back(to_float(w[i]));
        } else if (key == "kept") {
            for (size_t i = 1; i < w.size(); ++i) {
                std::vector<std::string> f = split(w[i], ':');
                c.kept.push_back({std::stoi(f.at(0)), to_float(f.at(1)), to_float(f.at(2))});
            }
        } else if (key == "end") {
            cases.push_back(c);
        } else {
            ADD_FAILURE() << path << ": unknown line " << line;
        }
    }
    return cases;
}

TEST(Sampler, MatchesLlamaCpp) {
    std::vector<GoldenCase> cases = read_golden();
    ASSERT_GE(cases.size(), 40u);
    for (const GoldenCase& c : cases) {
        SCOPED_TRACE(c.name);
        Sampler s(c.params, {.n_vocab = static_cast<uint32_t>(c.logits.size())});
        for (tokenizer::TokenId id : c.history) s.accept(id);
        std::span<const TokenProb> dist = s.apply(c.logits);
        ASSERT_EQ(ids(dist), ids(c.kept)) << "the kept sets differ";
        auto got = kept(dist);
        auto want = kept(c.kept);
        for (const auto& [id, lp] : want) {
            // Same float operations in the same order as llama.cpp: logits agree exactly,
            // probabilities to float rounding (exp and the sum of up to 400 terms).
            EXPECT_EQ(got[id].first, lp.first) << "logit of token " << id;
            EXPECT_NEAR(got[id].second, lp.second, 1e-6) << "p of token " << id;
        }
    }
}

}  // namespace
}  // namespace loom::runtime

// Constrained sampling (Sampler::sample with a GrammarMatcher): a draw the grammar accepts
// is the unconstrained draw itself (same seed, same token); a rejected draw is replaced
// by one from the masked logits through the same chain; greedy picks the best accepted
// token; a grammar that accepts no token gives kNoToken. Unconstrained sampling is
// covered, bit for bit, by test_sampler.cpp.
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runtime/grammar.h"
#include "runtime/grammar_matcher.h"
#include "runtime/sampler.h"
#include "runtime/token_trie.h"

namespace loom::runtime {
namespace {

using tokenizer::TokenId;

// Tokens 0..5: "a" "b" "c" "d" "e" and an end-of-generation token.
std::shared_ptr<const TokenTrie> letters() {
    std::vector<std::string> pieces = {"a", "b", "c", "d", "e", ""};
    std::vector<TokenId> eog = {5};
    return std::make_shared<const TokenTrie>(pieces, eog);
}

SamplerParams params(float temperature, uint64_t seed) {
    SamplerParams p;
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

const std::vector<float> kLogits = {2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -1.0f};

TEST(SamplerGrammar, AcceptedDrawIsTheUnconstrainedDraw) {
    GrammarMatcher anything(Grammar::parse("root ::= [a-e]*"), letters());
    for (uint64_t seed = 0; seed < 50; ++seed) {
        Sampler plain(params(1.0f, seed));
        Sampler constrained(params(1.0f, seed));
        const TokenId expected = plain.sample(kLogits);
        EXPECT_EQ(constrained.sample(kLogits, anything), expected) << seed;
    }
}

TEST(SamplerGrammar, RejectedDrawIsRedrawnFromTheAcceptedTokens) {
    GrammarMatcher only_cd(Grammar::parse("root ::= [cd]"), letters());
    std::set<TokenId> seen;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        Sampler s(params(1.0f, seed));
        const TokenId id = s.sample(kLogits, only_cd);
        ASSERT_TRUE(id == 2 || id == 3) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen, (std::set<TokenId>{2, 3}));
}

TEST(SamplerGrammar, GreedyTakesTheBestAcceptedToken) {
    GrammarMatcher m(Grammar::parse("root ::= [b-d] [a-e]"), letters());
    Sampler s(params(0.0f, 1));
    EXPECT_EQ(s.sample(kLogits, m), 1);
    m.accept(1);
    EXPECT_EQ(s.sample(kLogits, m), 0);
    m.accept(0);
    EXPECT_EQ(s.sample(kLogits, m), 5);  // only the end is left
}

TEST(SamplerGrammar, NoAcceptedTokenGivesNoToken) {
    GrammarMatcher needs_z(Grammar::parse("root ::= \"z\""), letters());
    Sampler s(params(1.0f, 3));
    EXPECT_EQ(s.sample(kLogits, needs_z), tokenizer::kNoToken);
    Sampler greedy(params(0.0f, 3));
    EXPECT_EQ(greedy.sample(kLogits, needs_z), tokenizer::kNoToken);
}

TEST(SamplerGrammar, LogitBiasBansStayBanned) {
    GrammarMatcher m(Grammar::parse("root ::= [ab]"), letters());
    SamplerParams p = params(0.0f, 1);
    p.logit_bias = {{0, -std::numeric_limits<float>::infinity()}};
    Sampler s(p);
    EXPECT_EQ(s.sample(kLogits, m), 1);
}

}  // namespace
}  // namespace loom::runtime

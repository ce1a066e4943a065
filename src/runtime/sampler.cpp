// Sampling chain (see sampler.h). Each filter keeps llama.cpp's arithmetic — float sums
// in the order of the sorted list, min-p compared on logits, typical's strict cutoff — so
// the kept sets match llama.cpp's, which tests/runtime/data/sampler_golden.txt checks.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "runtime/grammar_matcher.h"

namespace loom::runtime {
namespace {

using tokenizer::TokenId;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Descending logit, lowest id on ties: a total order, so results never depend on the
// sort algorithm.
bool by_logit(const TokenProb& a, const TokenProb& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

[[noreturn]] void bad_param(const std::string& name, const std::string& expected, double got) {
    throw Error(ErrorCode::InvalidArgument, "sampler parameter " + name + ": expected " + expected +
                                                ", got " + std::to_string(got));
}

void check_not_nan(const char* name, float value) {
    if (std::isnan(value)) bad_param(name, "a number", value);
}

}  // namespace

Sampler::Sampler(const SamplerParams& params, const SamplerLimits& limits)
    : params_(params), rng_(params.seed) {
    check_not_nan("temperature", params.temperature);
    check_not_nan("top_p", params.top_p);
    check_not_nan("min_p", params.min_p);
    check_not_nan("typical_p", params.typical_p);
    if (!(params.repeat_penalty > 0.0f) || !std::isfinite(params.repeat_penalty)) {
        bad_param("repeat_penalty", "a finite number > 0 (1 is off)", params.repeat_penalty);
    }
    if (!std::isfinite(params.frequency_penalty)) {
        bad_param("frequency_penalty", "a finite number", params.frequency_penalty);
    }
    if (!std::isfinite(params.presence_penalty)) {
        bad_param("presence_penalty", "a finite number", params.presence_penalty);
    }
    if (params.penalty_last_n < -1) {
        bad_param("penalty_last_n", "-1 (the context), 0 (off) or more", params.penalty_last_n);
    }
    if (params.penalty_last_n == -1 && limits.n_ctx == 0) {
        throw Error(
            ErrorCode::InvalidArgument,
            "sampler parameter penalty_last_n: -1 (the whole context) needs the context size");
    }
    for (const LogitBias& b : params.logit_bias) {
        const std::string name = "logit_bias for token " + std::to_string(b.token);
        if (std::isnan(b.bias) || b.bias == std::numeric_limits<float>::infinity()) {
            bad_param(name, "a finite bias or -inf", b.bias);
        }
        if (b.token < 0 ||
            (limits.n_vocab != 0 && static_cast<uint32_t>(b.token) >= limits.n_vocab)) {
            throw Error(ErrorCode::InvalidArgument,
                        name + ": no such token (the vocabulary has " +
                            std::to_string(limits.n_vocab) + " tokens, ids 0.." +
                            std::to_string(static_cast<int64_t>(limits.n_vocab) - 1) + ")");
        }
    }
    if (limits.n_vocab != 0 && !params.logit_bias.empty()) {
        // Every token banned would leave nothing to sample: say so now, not mid-generation.
        std::vector<TokenId> banned;
        for (const LogitBias& b : params.logit_bias) {
            if (b.bias == kNegInf) banned.push_back(b.token);
        }
        std::sort(banned.begin(), banned.end());
        banned.erase(std::unique(banned.begin(), banned.end()), banned.end());
        if (banned.size() >= limits.n_vocab) {
            throw Error(ErrorCode::InvalidArgument,
                        "logit_bias bans every token of the vocabulary (" +
                            std::to_string(limits.n_vocab) + ")");
        }
    }

    penalties_on_ = params.penalty_last_n != 0 &&
                    (params.repeat_penalty != 1.0f || params.frequency_penalty != 0.0f ||
                     params.presence_penalty != 0.0f);
    size_t capacity =
        params.penalty_last_n == -1 ? limits.n_ctx : static_cast<size_t>(params.penalty_last_n);
    history_.resize(capacity);
    if (limits.n_vocab != 0) reserve(limits.n_vocab);
}

void Sampler::reserve(size_t n_vocab) {
    candidates_.reserve(n_vocab);
    if (penalties_on_) counts_.resize(n_vocab, 0);
    if (params_.typical_p < 1.0f && params_.temperature > 0.0f) typical_order_.reserve(n_vocab);
}

void Sampler::accept(TokenId id) noexcept {
    if (history_.empty()) return;
    size_t capacity = history_.size();
    if (history_size_ < capacity) {
        history_[(history_first_ + history_size_) % capacity] = id;
        ++history_size_;
    } else {
        history_[history_first_] = id;  // overwrites the oldest
        history_first_ = (history_first_ + 1) % capacity;
    }
}

void Sampler::reset() noexcept {
    history_first_ = 0;
    history_size_ = 0;
}

// llama_sampler_penalties: for a token seen c > 0 times in the window, a logit <= 0 is
// multiplied by repeat_penalty and a positive one divided by it (both push it down), then
// c * frequency_penalty + presence_penalty is subtracted. candidates_ is in id order here.
void Sampler::apply_penalties() noexcept {
    const size_t n = candidates_.size();
    const size_t capacity = history_.size();
    auto in_vocab = [n](TokenId id) { return id >= 0 && static_cast<size_t>(id) < n; };
    for (size_t i = 0; i < history_size_; ++i) {
        TokenId id = history_[(history_first_ + i) % capacity];
        if (in_vocab(id)) ++counts_[static_cast<size_t>(id)];
    }
    // Second pass: each distinct token once; its count is zeroed as it is applied, which
    // also leaves counts_ all zero for the next sample.
    for (size_t i = 0; i < history_size_; ++i) {
        TokenId id = history_[(history_first_ + i) % capacity];
        if (!in_vocab(id) || counts_[static_cast<size_t>(id)] == 0) continue;
        const int32_t count = counts_[static_cast<size_t>(id)];
        counts_[static_cast<size_t>(id)] = 0;
        float& logit = candidates_[static_cast<size_t>(id)].logit;
        logit = logit <= 0.0f ? logit * params_.repeat_penalty : logit / params_.repeat_penalty;
        logit -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    }
}

// Sorts candidates_ by logit and keeps the first top_k (all when top_k <= 0): the later
// filters and the draw rely on the sorted order.
void Sampler::apply_top_k() noexcept {
    size_t keep = candidates_.size();
    if (params_.top_k > 0) keep = std::min(keep, static_cast<size_t>(params_.top_k));
    if (keep == candidates_.size()) {
        // Nothing to cut: a plain sort, faster than partial_sort's heap sort of everything.
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
        return;
    }
    // by_logit is a total order, so the k best are one set in one order: selecting them
    // (linear) and sorting only those gives partial_sort's result, several times faster
    // on a 262k-token vocabulary (the server samples every slot every step).
    const auto kth = candidates_.begin() + static_cast<std::ptrdiff_t>(keep);
    std::nth_element(candidates_.begin(), kth, candidates_.end(), by_logit);
    candidates_.resize(keep);
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
}

// llama_sampler_softmax_impl on the sorted list: float exponentials and sum, in order.
void Sampler::softmax() noexcept {
    const float max = candidates_.front().logit;
    float sum = 0.0f;
    for (TokenProb& c : candidates_) {
        c.p = std::exp(c.logit - max);
        sum += c.p;
    }
    for (TokenProb& c : candidates_) c.p /= sum;
}

// llama_sampler_typical (locally typical sampling, arXiv:2202.00666): H = -sum p log p;
// each token's distance |-log p - H|; in order of distance, keep tokens until their
// cumulative probability exceeds typical_p (strictly; at least one). The kept set is put
// back in logit order.
void Sampler::apply_typical() noexcept {
    softmax();
    float entropy = 0.0f;
    for (const TokenProb& c : candidates_) {
        if (c.p > 0.0f) entropy += -c.p * std::log(c.p);
    }
    typical_order_.clear();
    for (size_t i = 0; i < candidates_.size(); ++i) {
        typical_order_.emplace_back(std::fabs(-std::log(candidates_[i].p) - entropy),
                                    static_cast<uint32_t>(i));
    }
    // Pairs compare by distance, then position: ties resolve toward the higher logit.
    std::sort(typical_order_.begin(), typical_order_.end());
    float cum = 0.0f;
    size_t keep = typical_order_.size();
    for (size_t i = 0; i < typical_order_.size(); ++i) {
        cum += candidates_[typical_order_[i].second].p;
        if (cum > params_.typical_p) {
            keep = i + 1;
            break;
        }
    }
    // Kept positions in ascending order; compacting forward keeps the logit order.
    std::sort(typical_order_.begin(), typical_order_.begin() + static_cast<std::ptrdiff_t>(keep),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    for (size_t i = 0; i < keep; ++i) candidates_[i] = candidates_[typical_order_[i].second];
    candidates_.resize(keep);
}

// llama_sampler_top_p: the shortest prefix whose probability reaches top_p.
void Sampler::apply_top_p() noexcept {
    softmax();
    float cum = 0.0f;
    size_t keep = candidates_.size();
    for (size_t i = 0; i < candidates_.size(); ++i) {
        cum += candidates_[i].p;
        if (cum >= params_.top_p) {
            keep = i + 1;
            break;
        }
    }
    candidates_.resize(keep);
}

// llama_sampler_min_p: keep logits >= max + log(min_p), i.e. p >= min_p * p_max, compared
// on logits as llama.cpp does. The first token always stays.
void Sampler::apply_min_p() noexcept {
    const float min_logit = candidates_.front().logit + std::log(params_.min_p);
    size_t keep = 1;
    while (keep < candidates_.size() && candidates_[keep].logit >= min_logit) ++keep;
    candidates_.resize(keep);
}

std::span<const TokenProb> Sampler::apply(std::span<const float> logits) noexcept {
    if (candidates_.capacity() < logits.size()) reserve(logits.size());
    if (penalties_on_ && counts_.size() < logits.size()) counts_.resize(logits.size(), 0);
    candidates_.clear();
    for (size_t i = 0; i < logits.size(); ++i) {
        // NaN would break the sort's ordering; treat it as a banned token.
        float logit = std::isnan(logits[i]) ? kNegInf : logits[i];
        candidates_.push_back(TokenProb{static_cast<TokenId>(i), logit, 0.0f});
    }
    for (const LogitBias& b : params_.logit_bias) {
        if (b.token >= 0 && static_cast<size_t>(b.token) < candidates_.size()) {
            candidates_[static_cast<size_t>(b.token)].logit += b.bias;
        }
    }
    if (penalties_on_ && history_size_ > 0) apply_penalties();

    // Banned tokens leave the list here, so no filter or draw can see them.
    size_t kept = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        if (candidates_[i].logit != kNegInf) candidates_[kept++] = candidates_[i];
    }
    if (kept == 0) {
        candidates_.resize(std::min<size_t>(candidates_.size(), 1));
        if (!candidates_.empty()) candidates_.front().p = 1.0f;
        return candidates_;
    }
    candidates_.resize(kept);

    if (params_.temperature <= 0.0f) {
        size_t best = 0;  // id order, strict >: the lowest id wins ties
        for (size_t i = 1; i < candidates_.size(); ++i) {
            if (candidates_[i].logit > candidates_[best].logit) best = i;
        }
        candidates_.front() = candidates_[best];
        candidates_.front().p = 1.0f;
        candidates_.resize(1);
        return candidates_;
    }

    apply_top_k();
    if (params_.typical_p < 1.0f) apply_typical();
    if (params_.top_p < 1.0f) apply_top_p();
    if (params_.min_p > 0.0f) apply_min_p();
    for (TokenProb& c : candidates_) c.logit /= params_.temperature;
    softmax();
    return candidates_;
}

TokenId Sampler::sample(std::span<const float> logits) noexcept {
    std::span<const TokenProb> dist = apply(logits);
    if (dist.empty()) return tokenizer::kNoToken;  // no logits at all: a caller bug
    if (dist.size() == 1) return dist.front().id;  // greedy, or one token left: no draw
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const double r = uniform(rng_);
    double acc = 0.0;
    for (const TokenProb& c : dist) {
        acc += c.p;
        if (r < acc) return c.id;
    }
    return dist.back().id;  // r within rounding of 1
}

// llama.cpp's common_sampler_sample without grammar_first: most draws fit the grammar,
// and checking one token is far cheaper than masking the vocabulary.
TokenId Sampler::sample(std::span<const float> logits, GrammarMatcher& grammar) {
    const TokenId first = sample(logits);
    if (first != tokenizer::kNoToken && grammar.accepts(first)) return first;
    masked_.assign(logits.begin(), logits.end());
    grammar.apply(masked_);
    const TokenId second = sample(masked_);
    // With every token banned the chain hands back token 0 alone: check it too.
    if (second == tokenizer::kNoToken || !grammar.accepts(second)) return tokenizer::kNoToken;
    return second;
}

}  // namespace loom::runtime

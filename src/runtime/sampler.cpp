// Sampling chain.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace loom::runtime {

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) {}

tokenizer::TokenId Sampler::sample(std::span<const float> logits) {
    if (params_.temperature <= 0.0f) {
        size_t best = 0;
        for (size_t i = 1; i < logits.size(); ++i) {
            if (logits[i] > logits[best]) best = i;
        }
        return static_cast<tokenizer::TokenId>(best);
    }
    candidates_.clear();
    for (size_t i = 0; i < logits.size(); ++i) {
        candidates_.push_back(Candidate{static_cast<tokenizer::TokenId>(i), logits[i], 0.0f});
    }
    auto by_logit = [](const Candidate& a, const Candidate& b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    };
    // top-k
    size_t keep = candidates_.size();
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<long>(keep), candidates_.end(), by_logit);
    candidates_.resize(keep);
    auto normalize = [this](float temperature) {
        double sum = 0.0;
        const float max = candidates_.front().logit;
        for (Candidate& c : candidates_) {
            c.p = std::exp((c.logit - max) / temperature);
            sum += c.p;
        }
        for (Candidate& c : candidates_) c.p = static_cast<float>(c.p / sum);
    };
    normalize(1.0f);
    // top-p: the smallest prefix whose mass reaches p.
    if (params_.top_p < 1.0f) {
        double mass = 0.0;
        size_t n = 0;
        while (n < candidates_.size()) {
            mass += candidates_[n].p;
            ++n;
            if (mass >= params_.top_p) break;
        }
        candidates_.resize(std::max<size_t>(n, 1));
    }
    // min-p: drop tokens below min_p times the best probability.
    if (params_.min_p > 0.0f) {
        const float threshold = candidates_.front().p * params_.min_p;
        size_t n = 1;
        while (n < candidates_.size() && candidates_[n].p >= threshold) ++n;
        candidates_.resize(n);
    }
    normalize(params_.temperature);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    double r = uniform(rng_);
    double acc = 0.0;
    for (const Candidate& c : candidates_) {
        acc += c.p;
        if (r < acc) return c.id;
    }
    return candidates_.back().id;
}

}  // namespace loom::runtime

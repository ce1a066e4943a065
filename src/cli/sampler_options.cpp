// Shared sampling flags.
#include "cli/sampler_options.h"

#include <CLI/CLI.hpp>

#include <random>

namespace loom::cli {

void add_sampler_options(CLI::App& app, runtime::SamplerParams& params, int64_t& seed) {
    app.add_option("--temp", params.temperature, "Temperature; 0 is greedy")->check(CLI::Range(0.0, 100.0));
    app.add_option("--top-k", params.top_k, "Top-k (0: off)")->check(CLI::Range(0, 1 << 24));
    app.add_option("--top-p", params.top_p, "Top-p (1: off)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--min-p", params.min_p, "Min-p (0: off)")->check(CLI::Range(0.0, 1.0));
    app.add_option("-s,--seed", seed, "RNG seed (default: random)");
}

runtime::SamplerParams resolve_seed(runtime::SamplerParams params, int64_t seed) {
    params.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
    return params;
}

}  // namespace loom::cli

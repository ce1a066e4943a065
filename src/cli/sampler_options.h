// The sampling flags shared by `loom run` and `loom chat` (llama.cpp's names).
#pragma once

#include <cstdint>

#include "runtime/sampler.h"

namespace CLI {
class App;
}

namespace loom::cli {

// Adds --temp, --top-k, --top-p, --min-p and -s/--seed (negative: random) to app.
void add_sampler_options(CLI::App& app, runtime::SamplerParams& params, int64_t& seed);

// The parameters with the seed resolved (a random one when seed < 0).
runtime::SamplerParams resolve_seed(runtime::SamplerParams params, int64_t seed);

}  // namespace loom::cli

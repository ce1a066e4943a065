// The sampling flags shared by `loom run` and `loom chat`, with llama.cpp's names:
//
//   --temp, --top-k, --top-p, --min-p, --typical, --repeat-penalty, --repeat-last-n,
//   --frequency-penalty (--freq-penalty), --presence-penalty, -l/--logit-bias (repeatable),
//   -s/--seed                                   -> runtime::SamplerParams + the seed
//   --stop (repeatable)                         -> a list of stop strings (add_stop_option)
//
//   runtime::SamplerParams sampler;  int64_t seed = -1;  std::vector<std::string> stop;
//   add_sampler_options(app, sampler, seed);
//   add_stop_option(app, stop);
//   ... after parsing:
//   runtime::Sampler s(resolve_seed(sampler, seed), {.n_vocab = ..., .n_ctx = ...});
//   runtime::StopMatcher matcher(stop);
//
// Values are range-checked while CLI11 parses: a bad value is a usage error (exit 2)
// naming the flag. Stop strings are taken literally (no escape processing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"

namespace CLI {
class App;
}

namespace loom::cli {

// Adds the sampling flags (all but --stop) to app; they write into params and seed
// (negative: random).
void add_sampler_options(CLI::App& app, runtime::SamplerParams& params, int64_t& seed);

// Adds --stop TEXT, repeatable: each occurrence appends one non-empty string to stop, in
// the order given. Separate from add_sampler_options because it acts on text, not tokens.
void add_stop_option(CLI::App& app, std::vector<std::string>& stop);

// The parameters with the seed resolved (a random one when seed < 0).
runtime::SamplerParams resolve_seed(runtime::SamplerParams params, int64_t seed);

// One --logit-bias value: llama.cpp's TOKEN+BIAS / TOKEN-BIAS (e.g. "15043+1",
// "15043-inf"), or TOKEN=BIAS with a signed BIAS ("15043=-0.5"). BIAS is a decimal
// number or inf; -inf bans the token. Throws loom::Error(InvalidArgument) naming the spec
// when it is not of that form, the token is negative, or the bias is +inf or NaN.
runtime::LogitBias parse_logit_bias(std::string_view spec);

}  // namespace loom::cli

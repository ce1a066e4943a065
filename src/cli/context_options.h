// The context flags shared by `loom run` and `loom chat`: -c/--ctx-size, -t/--threads,
// -b/--batch-size, and how their defaults resolve against a model.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "model/hparams.h"
#include "runtime/context.h"

namespace loom::cli {

struct ContextArgs {
    uint32_t n_ctx = 0;      // 0: min(4096, the model's training context)
    uint32_t n_threads = 0;  // 0: the machine's hardware threads
    uint32_t n_batch = 256;  // 256: 8-10 % faster prompts than 64 (loom bench pp512, Gemma and 1B Q4_0, 2 threads)
    bool reference_kernels = false;  // the scalar reference kernels throughout
    std::string kernels;             // a level by name ("avx2"); empty: the best this CPU has
    std::string cache_type = "f16";  // KV cache type: f16, f32, q8_0
};

void add_context_options(CLI::App& app, ContextArgs& args);

runtime::ContextParams resolve_context(const ContextArgs& args, const model::HParams& h);

}  // namespace loom::cli

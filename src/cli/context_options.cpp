// Context flags.
#include "cli/context_options.h"

#include <algorithm>
#include <optional>

#include "core/error.h"

namespace loom::cli {

void add_context_options(CLI::App& app, ContextArgs& args) {
    app.add_option("-c,--ctx-size", args.n_ctx, "Context size in tokens (default: min(4096, trained))")
        ->check(CLI::Range(0, 1 << 24));
    app.add_option("-t,--threads", args.n_threads, "Threads (default: all hardware threads)")
        ->check(CLI::Range(0, 1024));
    app.add_option("-b,--batch-size", args.n_batch, "Prompt tokens evaluated together (default: 256)")
        ->check(CLI::Range(1, 4096));
    app.add_flag("--reference-kernels", args.reference_kernels,
                 "Compute with the scalar reference kernels (slow; the definition of correct)");
    app.add_option("--cache-type", args.cache_type, "KV cache type for keys and values: f16 (default), f32, q8_0");
    app.add_option("--kernels", args.kernels, "Kernel level: scalar, avx2, avx512-vnni (default: the best available)");
}

runtime::ContextParams resolve_context(const ContextArgs& args, const model::HParams& h) {
    runtime::ContextParams p;
    p.n_ctx = args.n_ctx != 0 ? args.n_ctx : std::min<uint32_t>(4096, h.n_ctx_train);
    p.n_threads = args.n_threads;
    p.n_batch = args.n_batch;
    if (args.reference_kernels) {
        p.isa = kernels::Isa::Scalar;
    } else if (!args.kernels.empty()) {
        std::optional<kernels::Isa> isa = kernels::parse_isa(args.kernels);
        if (!isa) {
            throw Error(ErrorCode::InvalidArgument,
                        "--kernels: \"" + args.kernels + "\" is not a kernel level (scalar, avx2, avx512-vnni)");
        }
        p.isa = *isa;
    }
    if (args.cache_type == "f16") {
        p.kv_type = gguf::GgmlType::F16;
    } else if (args.cache_type == "f32") {
        p.kv_type = gguf::GgmlType::F32;
    } else if (args.cache_type == "q8_0") {
        p.kv_type = gguf::GgmlType::Q8_0;
    } else {
        throw Error(ErrorCode::InvalidArgument,
                    "--cache-type: \"" + args.cache_type + "\" is not a KV cache type (f16, f32, q8_0)");
    }
    return p;
}

}  // namespace loom::cli

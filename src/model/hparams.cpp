// Hyperparameter loading.
#include "model/hparams.h"

#include <cmath>

#include "core/error.h"

namespace loom::model {
namespace {

uint32_t required(const gguf::GgufFile& file, const std::string& key) {
    uint64_t v = file.get_uint(key);
    if (v == 0 || v > UINT32_MAX) file.fail_key(key, "must be between 1 and 2^32-1", ErrorCode::OutOfRange);
    return static_cast<uint32_t>(v);
}

uint32_t optional(const gguf::GgufFile& file, const std::string& key, uint32_t fallback) {
    auto v = file.find_uint(key);
    if (!v) return fallback;
    if (*v > UINT32_MAX) file.fail_key(key, "is too large", ErrorCode::OutOfRange);
    return static_cast<uint32_t>(*v);
}

// RoPE scaling as llama.cpp reads it: a factor (or the older rope.scale_linear) gives
// freq_scale = 1 / factor; the type string defaults to linear; "none" never scales.
void load_rope_scaling(const gguf::GgufFile& file, const std::string& p, HParams& h) {
    using RS = HParams::RopeScaling;
    const std::string type_key = p + "rope.scaling.type";
    std::string type(file.find_string(type_key).value_or("linear"));
    if (type == "none") {
        h.rope_scaling = RS::None;
    } else if (type == "linear") {
        h.rope_scaling = RS::Linear;
    } else if (type == "yarn") {
        h.rope_scaling = RS::Yarn;
    } else if (type == "longrope") {
        h.rope_scaling = RS::LongRope;
    } else {
        file.fail_key(type_key, "\"" + type + "\" is not a RoPE scaling type Loom knows (none, linear, yarn, longrope)",
                      ErrorCode::Unsupported);
    }
    double factor = file.find_float(p + "rope.scaling.factor").value_or(0.0);
    if (factor == 0.0) factor = file.find_float(p + "rope.scale_linear").value_or(0.0);
    if (factor < 0.0 || !std::isfinite(factor)) file.fail_key(p + "rope.scaling.factor", "must be positive", ErrorCode::OutOfRange);
    h.rope_freq_scale = factor == 0.0 || h.rope_scaling == RS::None ? 1.0f : static_cast<float>(1.0 / factor);
    h.rope_attn_factor = static_cast<float>(file.find_float(p + "rope.scaling.attn_factor").value_or(1.0));
    h.n_ctx_orig = optional(file, p + "rope.scaling.original_context_length", h.n_ctx_train);
    if (h.n_ctx_orig == 0) h.n_ctx_orig = h.n_ctx_train;
}

}  // namespace

HParams load_hparams(const gguf::GgufFile& file, const ArchSpec& spec) {
    std::string p = std::string(spec.name) + ".";
    HParams h;
    h.n_embd = required(file, p + "embedding_length");
    h.n_layer = required(file, p + "block_count");
    h.n_head = required(file, p + "attention.head_count");
    h.n_head_kv = optional(file, p + "attention.head_count_kv", h.n_head);
    const bool moe = spec.ffn == FfnKind::Moe || (spec.ffn == FfnKind::DenseOrMoe && file.has(p + "expert_count"));
    if (moe) {
        h.n_expert = required(file, p + "expert_count");
        h.n_expert_used = required(file, p + "expert_used_count");
        if (h.n_expert_used > h.n_expert) {
            file.fail_key(p + "expert_used_count",
                          std::to_string(h.n_expert_used) + " exceeds expert_count " + std::to_string(h.n_expert),
                          ErrorCode::OutOfRange);
        }
        if (spec.moe_ff_from_expert_key) h.n_ff_exp = required(file, p + "expert_feed_forward_length");
    }
    // MoE models with their own expert width need no dense feed_forward_length.
    h.n_ff = h.n_ff_exp != 0 ? optional(file, p + "feed_forward_length", h.n_ff_exp)
                             : required(file, p + "feed_forward_length");
    if (moe && h.n_ff_exp == 0) h.n_ff_exp = h.n_ff;
    if (moe && spec.moe_shared_expert) h.n_ff_shexp = optional(file, p + "expert_shared_feed_forward_length", h.n_ff);
    h.n_ctx_train = optional(file, p + "context_length", 2048);
    if (h.n_head_kv == 0 || h.n_head % h.n_head_kv != 0) {
        file.fail_key(p + "attention.head_count_kv",
                      std::to_string(h.n_head_kv) + " does not divide head_count " + std::to_string(h.n_head),
                      ErrorCode::OutOfRange);
    }
    if (!file.has(p + "attention.key_length") && h.n_embd % h.n_head != 0) {
        file.fail_key(p + "attention.head_count",
                      std::to_string(h.n_head) + " does not divide embedding_length " + std::to_string(h.n_embd),
                      ErrorCode::OutOfRange);
    }
    h.head_dim = optional(file, p + "attention.key_length", h.n_embd / h.n_head);
    h.head_dim_v = optional(file, p + "attention.value_length", h.head_dim);
    h.n_rot = optional(file, p + "rope.dimension_count", h.head_dim);
    if (h.n_rot > h.head_dim || h.n_rot % 2 != 0) {
        file.fail_key(p + "rope.dimension_count",
                      std::to_string(h.n_rot) + " must be even and at most the head width " + std::to_string(h.head_dim),
                      ErrorCode::OutOfRange);
    }
    h.rms_eps = static_cast<float>(file.find_float(p + "attention.layer_norm_rms_epsilon").value_or(spec.default_rms_eps));
    h.rope_freq_base = static_cast<float>(file.find_float(p + "rope.freq_base").value_or(10000.0));
    h.rope_freq_base_swa = static_cast<float>(
        file.find_float(p + "rope.freq_base_swa").value_or(spec.default_rope_freq_base_swa));
    h.swa_period = spec.swa_period;
    if (spec.swa_period != 0 || spec.swa_all_layers) h.n_swa = optional(file, p + "attention.sliding_window", 0);
    load_rope_scaling(file, p, h);
    return h;
}

}  // namespace loom::model

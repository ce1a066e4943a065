// Hyperparameter loading.
#include "model/hparams.h"

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

}  // namespace

HParams load_hparams(const gguf::GgufFile& file, const ArchSpec& spec) {
    std::string p = std::string(spec.name) + ".";
    HParams h;
    h.n_embd = required(file, p + "embedding_length");
    h.n_layer = required(file, p + "block_count");
    h.n_head = required(file, p + "attention.head_count");
    h.n_head_kv = optional(file, p + "attention.head_count_kv", h.n_head);
    h.n_ff = required(file, p + "feed_forward_length");
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
    if (spec.swa_period != 0) h.n_swa = optional(file, p + "attention.sliding_window", 0);
    return h;
}

}  // namespace loom::model

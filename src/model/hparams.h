// HParams: the hyperparameters of a model, read from {arch}.* metadata with defaults
// and checked against each other (head counts divide, dims agree). Names follow the
// glossary (docs/GLOSSARY.md).
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"
#include "model/arch.h"

namespace loom::model {

struct HParams {
    uint32_t n_vocab = 0;
    uint32_t n_ctx_train = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t n_ff = 0;
    uint32_t head_dim = 0;    // key/query width of one head
    uint32_t head_dim_v = 0;  // value width of one head
    uint32_t n_rot = 0;       // dimensions rotated by RoPE
    float rms_eps = 1e-5f;
    float rope_freq_base = 10000.0f;
    float rope_freq_base_swa = 10000.0f;  // local (sliding-window) layers
    uint32_t n_swa = 0;                   // sliding window in tokens; 0: none
    uint32_t swa_period = 0;              // 0: every layer when n_swa is set
    // RoPE scaling ({arch}.rope.scaling.*): freq_scale = 1 / factor for linear and YaRN.
    enum class RopeScaling { None, Linear, Yarn, LongRope } rope_scaling = RopeScaling::Linear;
    float rope_freq_scale = 1.0f;
    float rope_attn_factor = 1.0f;
    uint32_t n_ctx_orig = 0;  // {arch}.rope.scaling.original_context_length, else n_ctx_train
    // Mixture of experts (0 experts: dense feed-forward).
    uint32_t n_expert = 0;
    uint32_t n_expert_used = 0;
    uint32_t n_ff_exp = 0;    // width of one routed expert
    uint32_t n_ff_shexp = 0;  // width of the shared expert

    bool is_swa(uint32_t il) const {
        return n_swa != 0 && (swa_period == 0 || il % swa_period != swa_period - 1);
    }

    uint32_t n_embd_q() const { return n_head * head_dim; }
    uint32_t n_embd_k() const { return n_head_kv * head_dim; }
    uint32_t n_embd_v() const { return n_head_kv * head_dim_v; }
};

// Throws loom::Error naming the key for missing or inconsistent values.
HParams load_hparams(const gguf::GgufFile& file, const ArchSpec& spec);

}  // namespace loom::model

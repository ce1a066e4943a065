// Weights: the tensors of a model bound by name and checked against the
// hyperparameters (shape in GGUF order, ne[0] contiguous). Views into the mapped file:
// nothing is copied. Which tensors exist follows the ArchSpec's switches.
#pragma once

#include <vector>

#include "gguf/gguf_file.h"
#include "model/arch.h"
#include "model/hparams.h"

namespace loom::model {

using Tensor = const gguf::TensorInfo*;

struct LayerWeights {
    Tensor attn_norm = nullptr;                     // [n_embd]
    Tensor wq = nullptr, wk = nullptr, wv = nullptr;  // [n_embd, n_embd_q|k|v]
    Tensor wqkv = nullptr;                          // [n_embd, q + k + v] instead (fused_qkv)
    Tensor bq = nullptr, bk = nullptr, bv = nullptr;  // [n_embd_q|k|v], qkv_bias only
    Tensor q_norm = nullptr, k_norm = nullptr;        // [head_dim], qk_norm only
    Tensor wo = nullptr;                            // [n_head * head_dim_v, n_embd]
    Tensor attn_post_norm = nullptr;                // [n_embd], post_norms only
    Tensor ffn_norm = nullptr;                      // [n_embd]
    Tensor ffn_post_norm = nullptr;                 // [n_embd], post_norms only
    Tensor ffn_gate = nullptr, ffn_up = nullptr;    // [n_embd, n_ff]; ffn_up [n_embd, 2 n_ff] when fused
    Tensor ffn_down = nullptr;                      // [n_ff, n_embd]
    // Mixture of experts.
    Tensor ffn_gate_inp = nullptr;                  // router [n_embd, n_expert]
    Tensor ffn_gate_exps = nullptr, ffn_up_exps = nullptr;  // [n_embd, n_ff_exp, n_expert]
    Tensor ffn_down_exps = nullptr;                 // [n_ff_exp, n_embd, n_expert]
    Tensor ffn_gate_inp_shexp = nullptr;            // shared-expert gate [n_embd]
    Tensor ffn_gate_shexp = nullptr, ffn_up_shexp = nullptr;  // [n_embd, n_ff_shexp]
    Tensor ffn_down_shexp = nullptr;                // [n_ff_shexp, n_embd]

    bool is_moe() const { return ffn_gate_inp != nullptr; }
};

struct Weights {
    Tensor tok_embd = nullptr;     // [n_embd, n_vocab]
    Tensor output_norm = nullptr;  // [n_embd]
    Tensor output = nullptr;       // [n_embd, n_vocab]; tok_embd when tied
    // RoPE frequency factors [n_rot / 2]: Llama 3's rope_freqs, or LongRoPE's long and
    // short factors (phi3 128k), each optional.
    Tensor rope_freqs = nullptr, rope_factors_long = nullptr, rope_factors_short = nullptr;
    std::vector<LayerWeights> layers;
};

// Binds every tensor; sets h.n_vocab from token_embd. Throws loom::Error naming the
// tensor for a missing one or a shape that does not match.
Weights bind_weights(const gguf::GgufFile& file, const ArchSpec& spec, HParams& h);

}  // namespace loom::model

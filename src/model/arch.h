// Architectures as data (STYLE.md §2): one constant ArchSpec per architecture, in
// src/model/arch/<name>.cpp, listed in registry.cpp. A spec names the GGUF arch string,
// the feature switches of the one shared transformer block, and how its tensors are
// found. The forward pass reads only the spec: there is no switch on the architecture.
#pragma once

#include <span>
#include <string_view>

namespace loom::model {

enum class RopeStyle {
    Norm,  // rotate adjacent pairs (x[2i], x[2i+1]): llama (its Q/K are permuted at conversion)
    Neox,  // rotate halves (x[i], x[i + n_rot/2]): qwen2/3, gemma, phi3
};

enum class FfnActivation {
    Silu,      // SwiGLU: silu(gate) * up
    GeluTanh,  // GeGLU: gelu_tanh(gate) * up (ggml's fp16-table GELU)
};

enum class FfnKind {
    Dense,      // ffn_gate / ffn_up / ffn_down
    Moe,        // router ffn_gate_inp and experts ffn_{gate,up,down}_exps
    DenseOrMoe  // Moe when {arch}.expert_count is set (llama: Mixtral converts to llama)
};

struct ArchSpec {
    std::string_view name;  // general.architecture
    RopeStyle rope;
    bool qkv_bias;       // blk.N.attn_{q,k,v}.bias
    bool qk_norm;        // blk.N.attn_{q,k}_norm.weight: RMSNorm per head before RoPE
    bool output_tied;    // output.weight may be absent: use token_embd.weight
    float default_rms_eps;
    FfnActivation ffn_activation = FfnActivation::Silu;
    bool embed_scale = false;   // token embeddings times sqrt(n_embd) (Gemma)
    bool post_norms = false;    // blk.N.post_attention_norm / post_ffw_norm after each sub-block
    // Sliding-window layers: with a period p > 0, layer il uses the local window unless
    // il % p == p - 1 (Gemma 3: five local layers, then one global).
    uint32_t swa_period = 0;
    // Local layers have their own RoPE: base {arch}.rope.freq_base_swa (default below)
    // and no frequency scaling (Gemma 3). Otherwise they share the global layers' RoPE.
    bool swa_own_rope = false;
    float default_rope_freq_base_swa = 10000.0f;
    // {arch}.attention.sliding_window, when set, applies to every layer (Mistral).
    bool swa_all_layers = false;
    // blk.N.attn_qkv [n_embd, q + k + v] may replace attn_q/k/v (phi3).
    bool fused_qkv = false;
    // blk.N.ffn_up holds gate and up as halves [n_embd, 2 n_ff]; no ffn_gate (phi3).
    bool fused_gate_up = false;
    FfnKind ffn = FfnKind::Dense;
    // Mixture of experts: softmax over the router logits, top expert_used_count experts,
    // their weights renormalised to sum 1 when moe_norm_weights.
    bool moe_norm_weights = false;
    // Expert width from {arch}.expert_feed_forward_length (else feed_forward_length).
    bool moe_ff_from_expert_key = false;
    // A shared expert beside the routed ones, scaled by sigmoid(ffn_gate_inp_shexp . x)
    // (qwen2moe), width {arch}.expert_shared_feed_forward_length.
    bool moe_shared_expert = false;
};

// The spec for general.architecture, or nullptr.
const ArchSpec* find_arch(std::string_view name);
std::span<const ArchSpec* const> all_archs();

}  // namespace loom::model

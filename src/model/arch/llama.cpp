// llama: Llama 1/2/3, TinyLlama, the TinyStories models, and Mistral and Mixtral, which
// convert to "llama". RMSNorm, SwiGLU, RoPE on adjacent pairs (Q/K permuted at
// conversion), optional tied output, optional rope_freqs (Llama 3.x). Mixtral: experts
// when llama.expert_count is set, softmax router, top-k, weights renormalised. Mistral's
// llama.attention.sliding_window, when a file sets it, limits every layer (llama.cpp
// ignores the key for this architecture; converters do not write it for Mistral 7B).
// Spec: llama.cpp src/models/llama.cpp (behaviour); Touvron et al. 2023; Jiang et al.
// 2024 (Mixtral).
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kLlama = {
    .name = "llama",
    .rope = RopeStyle::Norm,
    .qkv_bias = false,
    .qk_norm = false,
    .output_tied = true,
    .default_rms_eps = 1e-5f,
    .swa_all_layers = true,
    .ffn = FfnKind::DenseOrMoe,
    .moe_norm_weights = true,
};

}  // namespace loom::model::arch

// qwen3moe: Qwen3 MoE (30B-A3B, 235B-A22B). qwen3 attention (QK norm, NEOX); routed
// experts only: softmax router, top-k, weights renormalised to sum 1.
// Spec: llama.cpp src/models/qwen3moe.cpp (behaviour).
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kQwen3Moe = {
    .name = "qwen3moe",
    .rope = RopeStyle::Neox,
    .qkv_bias = false,
    .qk_norm = true,
    .output_tied = true,
    .default_rms_eps = 1e-6f,
    .ffn = FfnKind::Moe,
    .moe_norm_weights = true,
    .moe_ff_from_expert_key = true,
};

}  // namespace loom::model::arch

// qwen2moe: Qwen1.5-MoE / Qwen2-MoE. qwen2 attention (QKV bias, NEOX); feed-forward of
// routed experts (softmax router, top-k, weights NOT renormalised) plus a shared expert
// scaled by sigmoid(ffn_gate_inp_shexp . x).
// Spec: llama.cpp src/models/qwen2moe.cpp (behaviour).
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kQwen2Moe = {
    .name = "qwen2moe",
    .rope = RopeStyle::Neox,
    .qkv_bias = true,
    .qk_norm = false,
    .output_tied = true,
    .default_rms_eps = 1e-6f,
    .ffn = FfnKind::Moe,
    .moe_norm_weights = false,
    .moe_ff_from_expert_key = true,
    .moe_shared_expert = true,
};

}  // namespace loom::model::arch

// phi3: Phi-3 / Phi-3.5 / Phi-4 mini. Fused attn_qkv (or separate q/k/v), RoPE on halves
// (NEOX), fused gate+up feed-forward (ffn_up holds both halves), LongRoPE factors for
// the 128k models (rope_factors_long / short, chosen by context size). llama.cpp has
// disabled Phi-3's sliding window (its PR 13676); Loom follows it and attends to all.
// Spec: llama.cpp src/models/phi3.cpp (behaviour); Phi-3 technical report.
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kPhi3 = {
    .name = "phi3",
    .rope = RopeStyle::Neox,
    .qkv_bias = false,
    .qk_norm = false,
    .output_tied = true,
    .default_rms_eps = 1e-5f,
    .fused_qkv = true,
    .fused_gate_up = true,
};

}  // namespace loom::model::arch

// qwen2: Qwen 1.5 / 2 / 2.5. As llama with biases on Q, K and V and RoPE on halves
// (NEOX); output tied in the small models.
// Spec: llama.cpp src/models/qwen2.cpp (behaviour); Qwen2 technical report.
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kQwen2 = {
    .name = "qwen2",
    .rope = RopeStyle::Neox,
    .qkv_bias = true,
    .qk_norm = false,
    .output_tied = true,
    .default_rms_eps = 1e-6f,
};

}  // namespace loom::model::arch

// qwen3: Qwen 3 dense. No QKV bias; RMSNorm per head on Q and K before RoPE (NEOX);
// head width from qwen3.attention.key_length; output tied in the small models.
// Spec: llama.cpp src/models/qwen3.cpp (behaviour); Qwen3 technical report.
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kQwen3 = {
    .name = "qwen3",
    .rope = RopeStyle::Neox,
    .qkv_bias = false,
    .qk_norm = true,
    .output_tied = true,
    .default_rms_eps = 1e-6f,
};

}  // namespace loom::model::arch

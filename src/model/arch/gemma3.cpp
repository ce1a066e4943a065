// gemma3: Gemma 3 (text). Token embeddings scaled by sqrt(n_embd); RMSNorm before and
// after attention and feed-forward; per-head QK RMSNorm; RoPE on halves (NEOX) with base
// 10000 on the local layers and {arch}.rope.freq_base on the global ones; five
// sliding-window layers then one global; GeGLU with tanh GELU; output tied to the
// embeddings. Spec: llama.cpp src/models/gemma3.cpp and llama-model.cpp (behaviour);
// Gemma 3 technical report.
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kGemma3 = {
    .name = "gemma3",
    .rope = RopeStyle::Neox,
    .qkv_bias = false,
    .qk_norm = true,
    .output_tied = true,
    .default_rms_eps = 1e-6f,
    .ffn_activation = FfnActivation::GeluTanh,
    .embed_scale = true,
    .post_norms = true,
    .swa_period = 6,
    .swa_own_rope = true,
    .default_rope_freq_base_swa = 10000.0f,
};

}  // namespace loom::model::arch

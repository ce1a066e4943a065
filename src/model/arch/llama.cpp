// llama: Llama 1/2/3, TinyLlama, the TinyStories models (and Mistral/Mixtral, which
// convert to "llama"). RMSNorm, SwiGLU, RoPE on adjacent pairs, optional tied output.
// Spec: llama.cpp src/models/llama.cpp (behaviour); Touvron et al. 2023.
#include "model/arch.h"

namespace loom::model::arch {

extern const ArchSpec kLlama = {
    .name = "llama",
    .rope = RopeStyle::Norm,
    .qkv_bias = false,
    .qk_norm = false,
    .output_tied = true,
    .default_rms_eps = 1e-5f,
};

}  // namespace loom::model::arch

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

struct ArchSpec {
    std::string_view name;  // general.architecture
    RopeStyle rope;
    bool qkv_bias;       // blk.N.attn_{q,k,v}.bias
    bool qk_norm;        // blk.N.attn_{q,k}_norm.weight: RMSNorm per head before RoPE
    bool output_tied;    // output.weight may be absent: use token_embd.weight
    float default_rms_eps;
};

// The spec for general.architecture, or nullptr.
const ArchSpec* find_arch(std::string_view name);
std::span<const ArchSpec* const> all_archs();

}  // namespace loom::model

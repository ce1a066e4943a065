// Quantization mixes: the tensor type each tensor of a model gets when the model is
// quantized to a llama.cpp file type (llama_ftype: "Q4_K_M", "Q8_0", ...), chosen by the
// rules of llama.cpp's quantizer, so that `loom quantize` writes the same types per tensor
// as llama-quantize without an importance matrix:
//   - only weight matrices change: 1-D tensors, norms, MoE routers (ffn_gate_inp),
//     positional embeddings and a list of small special tensors keep their type;
//   - output.weight (and token_embd.weight when the embeddings are tied) gets Q6_K in
//     every quantized mix except Q8_0, or Q8_0 when its rows do not fit the mix's blocks;
//   - the _S / _M / _L mixes give attn_v, ffn_down and attn_output more bits in some
//     layers (use_more_bits: the first and last eighth and every third layer between);
//   - MoE models with 8 experts get Q8_0 attn_k / attn_v and Q5_K attn_output;
//   - a row length that is not a multiple of the chosen type's block size falls back:
//     IQ4_XS -> IQ4_NL, Q2_K / Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and
//     to F16 when that still does not fit (also for the 32-block types themselves).
// Spec: llama.cpp src/llama-quant.cpp (tensor_allows_quantization, llama_tensor_get_type,
// tensor_type_fallback, llama_ftype_get_default_type), as built by llama-cpp-python
// 0.3.x; tests/python/test_quantize.py compares the result with llama.cpp's quantizer.
// Not here: the mixes of the types Loom cannot compute with (IQ1-IQ3, TQ, MXFP4, Q2_K_S,
// which also need an importance matrix), --pure, --tensor-type overrides, imatrix rules.
//
//   const FileType* ft = find_file_type("q4_k_m");           // nullptr: unknown name
//   std::vector<MixChoice> types = plan_mix(*ft, model, tensors);   // one per tensor
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "gguf/ggml_type.h"

namespace loom::quant {

// llama.cpp's llama_ftype values (include/llama.h) of the file types Loom can write.
enum class FileTypeId : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q8_0 = 7,
    Q5_0 = 8,
    Q5_1 = 9,
    Q2_K = 10,
    Q3_K_S = 11,
    Q3_K_M = 12,
    Q3_K_L = 13,
    Q4_K_S = 14,
    Q4_K_M = 15,
    Q5_K_S = 16,
    Q5_K_M = 17,
    Q6_K = 18,
    IQ4_NL = 25,
    IQ4_XS = 30,
    BF16 = 32,
};

struct FileType {
    FileTypeId id;          // written as general.file_type
    std::string_view name;  // as llama.cpp spells it: "Q4_K_M"
    gguf::GgmlType base;    // the type of most matrices (llama_ftype_get_default_type)
};

// Every file type Loom can write, in llama_ftype order.
std::span<const FileType> quantize_file_types();

// The file type of a name, case-insensitive ("q4_k_m", "Q4_K_M"); nullptr when unknown.
const FileType* find_file_type(std::string_view name);

// What the rules read of the model (llama.cpp's hparams).
struct MixModel {
    std::string_view arch;   // general.architecture: "falcon" and 80-layer "llama" differ
    uint32_t n_layer = 0;    // {arch}.block_count
    uint32_t n_head = 0;     // {arch}.attention.head_count of layer 0
    uint32_t n_head_kv = 0;  // {arch}.attention.head_count_kv of layer 0 (0: = n_head)
    uint32_t n_expert = 0;   // {arch}.expert_count (0: dense)
};

// One tensor as the rules see it.
struct MixTensor {
    std::string_view name;
    uint32_t n_dims = 0;
    uint64_t ne0 = 0;                           // row length (GGUF order: contiguous axis)
    gguf::GgmlType type = gguf::GgmlType::F32;  // the type it has now
};

struct MixOptions {
    bool leave_output =
        false;  // keep output.weight as it is (llama-quantize --leave-output-tensor)
};

struct MixChoice {
    gguf::GgmlType type = gguf::GgmlType::F32;  // the type to write
    bool quantizable = false;  // false: a tensor the mixes never change (type = its own)
    bool fallback = false;     // its rows did not fit the rule's type; type is the fallback
};

// The type of every tensor, in the order given. The layer-dependent rules count attn_v and
// ffn_down tensors in llama.cpp's order (by layer, then by name), whatever the file order.
// Throws loom::Error (Format) for a MoE model's ffn_* tensor whose name has no layer
// ("blk.N.") in [0, n_layer), as llama.cpp does.
std::vector<MixChoice> plan_mix(const FileType& file_type, const MixModel& model,
                                std::span<const MixTensor> tensors, const MixOptions& options = {});

}  // namespace loom::quant

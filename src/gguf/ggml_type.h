// The table of ggml tensor types as GGUF files name them: id, name, elements per block
// and bytes per block, for every id a real file can carry (F32 ... MXFP4), so that every
// tensor of any file is located and bounds-checked even before Loom can compute with it.
// Ids that were removed from the format (4, 5, 31-33, 36-38) are unknown here.
// Spec: ggml include/ggml.h (enum ggml_type), src/ggml-common.h (block structs).
// Compute functions (dequantize, dot) are not here: they live in quant/.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace loom::gguf {

enum class GgmlType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21,
    IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29,
    BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41,
};

struct GgmlTypeTraits {
    GgmlType type;
    std::string_view name;   // as llama.cpp prints it: "q4_K", "f16", ...
    uint32_t block_size;     // elements per block (1 for plain types)
    uint32_t block_bytes;    // bytes per block
    bool quantized;
};

// Every known type, in id order.
std::span<const GgmlTypeTraits> ggml_types();

// Traits of a raw type id from a file; nullopt for an unknown or removed id.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id);

// Traits of a known type (never fails).
const GgmlTypeTraits& traits(GgmlType type);

std::string_view ggml_type_name(GgmlType type);

// Name of the llama.cpp file-type enum (general.file_type), e.g. 15 -> "Q4_K_M";
// empty for an unknown value.
std::string_view file_type_name(uint32_t file_type);

}  // namespace loom::gguf

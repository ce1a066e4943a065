// ggml type table. Block sizes and bytes follow the block structs in ggml-common.h
// (QK_K = 256); the test suite compares this table with the gguf Python package's
// GGML_QUANT_SIZES.
#include "gguf/ggml_type.h"

#include <array>

namespace loom::gguf {
namespace {

constexpr uint32_t QK = 32;
constexpr uint32_t QK_K = 256;

constexpr std::array<GgmlTypeTraits, 34> kTypes = {{
    {GgmlType::F32, "f32", 1, 4, false},
    {GgmlType::F16, "f16", 1, 2, false},
    {GgmlType::Q4_0, "q4_0", QK, 2 + QK / 2, true},
    {GgmlType::Q4_1, "q4_1", QK, 4 + QK / 2, true},
    {GgmlType::Q5_0, "q5_0", QK, 2 + 4 + QK / 2, true},
    {GgmlType::Q5_1, "q5_1", QK, 4 + 4 + QK / 2, true},
    {GgmlType::Q8_0, "q8_0", QK, 2 + QK, true},
    {GgmlType::Q8_1, "q8_1", QK, 4 + QK, true},
    {GgmlType::Q2_K, "q2_K", QK_K, QK_K / 16 + QK_K / 4 + 4, true},
    {GgmlType::Q3_K, "q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2, true},
    {GgmlType::Q4_K, "q4_K", QK_K, 4 + 12 + QK_K / 2, true},
    {GgmlType::Q5_K, "q5_K", QK_K, 4 + 12 + QK_K / 8 + QK_K / 2, true},
    {GgmlType::Q6_K, "q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, true},
    {GgmlType::Q8_K, "q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2, true},
    {GgmlType::IQ2_XXS, "iq2_xxs", QK_K, 2 + QK_K / 8 * 2, true},
    {GgmlType::IQ2_XS, "iq2_xs", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32, true},
    {GgmlType::IQ3_XXS, "iq3_xxs", QK_K, 2 + 3 * QK_K / 8, true},
    {GgmlType::IQ1_S, "iq1_s", QK_K, 2 + QK_K / 8 + QK_K / 16, true},
    {GgmlType::IQ4_NL, "iq4_nl", QK, 2 + QK / 2, true},
    {GgmlType::IQ3_S, "iq3_s", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64, true},
    {GgmlType::IQ2_S, "iq2_s", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32, true},
    {GgmlType::IQ4_XS, "iq4_xs", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2, true},
    {GgmlType::I8, "i8", 1, 1, false},
    {GgmlType::I16, "i16", 1, 2, false},
    {GgmlType::I32, "i32", 1, 4, false},
    {GgmlType::I64, "i64", 1, 8, false},
    {GgmlType::F64, "f64", 1, 8, false},
    {GgmlType::IQ1_M, "iq1_m", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32, true},
    {GgmlType::BF16, "bf16", 1, 2, false},
    {GgmlType::TQ1_0, "tq1_0", QK_K, (QK_K - 4 * QK_K / 64) / 5 + QK_K / 64 + 2, true},
    {GgmlType::TQ2_0, "tq2_0", QK_K, QK_K / 4 + 2, true},
    {GgmlType::MXFP4, "mxfp4", QK, 1 + QK / 2, true},
    {GgmlType::NVFP4, "nvfp4", 64, 4 + 64 / 2, true},
    {GgmlType::Q1_0, "q1_0", 128, 2 + 128 / 8, true},
}};

struct FileTypeName {
    uint32_t id;
    std::string_view name;
};

// llama.cpp's llama_ftype enum (include/llama.h); ids 4-6 and 33-35 are retired.
constexpr std::array<FileTypeName, 35> kFileTypes = {{
    {0, "F32"},       {1, "F16"},       {2, "Q4_0"},       {3, "Q4_1"},
    {7, "Q8_0"},      {8, "Q5_0"},      {9, "Q5_1"},       {10, "Q2_K"},
    {11, "Q3_K_S"},   {12, "Q3_K_M"},   {13, "Q3_K_L"},    {14, "Q4_K_S"},
    {15, "Q4_K_M"},   {16, "Q5_K_S"},   {17, "Q5_K_M"},    {18, "Q6_K"},
    {19, "IQ2_XXS"},  {20, "IQ2_XS"},   {21, "Q2_K_S"},    {22, "IQ3_XS"},
    {23, "IQ3_XXS"},  {24, "IQ1_S"},    {25, "IQ4_NL"},    {26, "IQ3_S"},
    {27, "IQ3_M"},    {28, "IQ2_S"},    {29, "IQ2_M"},     {30, "IQ4_XS"},
    {31, "IQ1_M"},    {32, "BF16"},     {36, "TQ1_0"},     {37, "TQ2_0"},
    {38, "MXFP4_MOE"},  {39, "NVFP4"},     {40, "Q1_0"},
}};

}  // namespace

std::span<const GgmlTypeTraits> ggml_types() { return kTypes; }

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id) {
    for (const auto& t : kTypes) {
        if (static_cast<uint32_t>(t.type) == id) return t;
    }
    return std::nullopt;
}

const GgmlTypeTraits& traits(GgmlType type) {
    for (const auto& t : kTypes) {
        if (t.type == type) return t;
    }
    return kTypes[0];  // unreachable: every enumerator is in the table (tested)
}

std::string_view ggml_type_name(GgmlType type) { return traits(type).name; }

std::string_view file_type_name(uint32_t file_type) {
    for (const auto& f : kFileTypes) {
        if (f.id == file_type) return f.name;
    }
    return {};
}

}  // namespace loom::gguf

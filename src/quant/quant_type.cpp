// The one table of computable types (see quant_type.h). Block sizes and bytes repeat
// gguf's ggml type table; the tests check that both agree and that each size matches the
// family's block struct.
#include "quant/quant_type.h"

#include <array>
#include <string>

#include "core/error.h"
#include "quant/float_types.h"
#include "quant/iq4.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"

namespace loom::quant {
namespace {

using gguf::GgmlType;

constexpr std::array<QuantType, 17> kQuantTypes = {{
    {GgmlType::F32, "f32", 1, 4, GgmlType::F32,
     dequantize_row_f32, quantize_row_f32, vec_dot_f32},
    {GgmlType::F16, "f16", 1, 2, GgmlType::F16,
     dequantize_row_f16, quantize_row_f16, vec_dot_f16},
    {GgmlType::Q4_0, "q4_0", 32, sizeof(BlockQ4_0), GgmlType::Q8_0,
     dequantize_row_q4_0, quantize_row_q4_0, vec_dot_q4_0_q8_0},
    {GgmlType::Q4_1, "q4_1", 32, sizeof(BlockQ4_1), GgmlType::Q8_1,
     dequantize_row_q4_1, quantize_row_q4_1, vec_dot_q4_1_q8_1},
    {GgmlType::Q5_0, "q5_0", 32, sizeof(BlockQ5_0), GgmlType::Q8_0,
     dequantize_row_q5_0, quantize_row_q5_0, vec_dot_q5_0_q8_0},
    {GgmlType::Q5_1, "q5_1", 32, sizeof(BlockQ5_1), GgmlType::Q8_1,
     dequantize_row_q5_1, quantize_row_q5_1, vec_dot_q5_1_q8_1},
    {GgmlType::Q8_0, "q8_0", 32, sizeof(BlockQ8_0), GgmlType::Q8_0,
     dequantize_row_q8_0, quantize_row_q8_0, vec_dot_q8_0_q8_0},
    {GgmlType::Q8_1, "q8_1", 32, sizeof(BlockQ8_1), GgmlType::Q8_1,
     dequantize_row_q8_1, quantize_row_q8_1, nullptr},
    {GgmlType::Q2_K, "q2_K", 256, sizeof(BlockQ2_K), GgmlType::Q8_K,
     dequantize_row_q2_K, quantize_row_q2_K, vec_dot_q2_K_q8_K},
    {GgmlType::Q3_K, "q3_K", 256, sizeof(BlockQ3_K), GgmlType::Q8_K,
     dequantize_row_q3_K, quantize_row_q3_K, vec_dot_q3_K_q8_K},
    {GgmlType::Q4_K, "q4_K", 256, sizeof(BlockQ4_K), GgmlType::Q8_K,
     dequantize_row_q4_K, quantize_row_q4_K, vec_dot_q4_K_q8_K},
    {GgmlType::Q5_K, "q5_K", 256, sizeof(BlockQ5_K), GgmlType::Q8_K,
     dequantize_row_q5_K, quantize_row_q5_K, vec_dot_q5_K_q8_K},
    {GgmlType::Q6_K, "q6_K", 256, sizeof(BlockQ6_K), GgmlType::Q8_K,
     dequantize_row_q6_K, quantize_row_q6_K, vec_dot_q6_K_q8_K},
    {GgmlType::Q8_K, "q8_K", 256, sizeof(BlockQ8_K), GgmlType::Q8_K,
     dequantize_row_q8_K, quantize_row_q8_K, nullptr},
    {GgmlType::IQ4_NL, "iq4_nl", 32, sizeof(BlockIQ4_NL), GgmlType::Q8_0,
     dequantize_row_iq4_nl, quantize_row_iq4_nl, vec_dot_iq4_nl_q8_0},
    {GgmlType::IQ4_XS, "iq4_xs", 256, sizeof(BlockIQ4_XS), GgmlType::Q8_K,
     dequantize_row_iq4_xs, quantize_row_iq4_xs, vec_dot_iq4_xs_q8_K},
    {GgmlType::BF16, "bf16", 1, 2, GgmlType::BF16,
     dequantize_row_bf16, quantize_row_bf16, vec_dot_bf16},
}};

}  // namespace

std::span<const QuantType> quant_types() { return kQuantTypes; }

const QuantType* find_quant_type(gguf::GgmlType type) {
    for (const auto& qt : kQuantTypes) {
        if (qt.type == type) return &qt;
    }
    return nullptr;
}

float vec_dot(gguf::GgmlType type, int64_t n, const void* x, const void* y) {
    const QuantType* qt = find_quant_type(type);
    if (qt == nullptr || qt->vec_dot == nullptr) {
        const std::string name(gguf::ggml_type_name(type));
        throw Error(ErrorCode::Unsupported,
                    "vec_dot: no reference dot for type " + name +
                        (qt == nullptr ? " (not computable)" : " (activation-side only)"));
    }
    return qt->vec_dot(n, x, y);
}

}  // namespace loom::quant

// Reference rows of F32, F16 and BF16: element-wise conversion and ggml's scalar dot
// (fp32 products, double sum). See float_types.h for the rounding rules.
// Spec: ggml src/ggml-cpu/vec.cpp (ggml_vec_dot_f32 / _f16 / _bf16, scalar branch).
#include "quant/float_types.h"

#include <cstring>

namespace loom::quant {
namespace {

// Element i of a little-endian array of T at any alignment.
template <typename T>
T load(const void* p, int64_t i) noexcept {
    T v;
    std::memcpy(&v, static_cast<const uint8_t*>(p) + i * sizeof(T), sizeof(T));
    return v;
}

template <typename T>
void store(void* p, int64_t i, T v) noexcept {
    std::memcpy(static_cast<uint8_t*>(p) + i * sizeof(T), &v, sizeof(T));
}

}  // namespace

void dequantize_row_f32(const void* blocks, float* out, int64_t n) noexcept {
    std::memcpy(out, blocks, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f16(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(load<uint16_t>(blocks, i));
}

void dequantize_row_bf16(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_fp32(load<uint16_t>(blocks, i));
}

void quantize_row_f32(const float* in, void* blocks, int64_t n) noexcept {
    std::memcpy(blocks, in, static_cast<size_t>(n) * sizeof(float));
}

void quantize_row_f16(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i) store<uint16_t>(blocks, i, fp32_to_fp16(in[i]));
}

void quantize_row_bf16(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i) store<uint16_t>(blocks, i, fp32_to_bf16(in[i]));
}

float vec_dot_f32(int64_t n, const void* x, const void* y) noexcept {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(load<float>(x, i) * load<float>(y, i));
    }
    return static_cast<float>(sum);
}

float vec_dot_f16(int64_t n, const void* x, const void* y) noexcept {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(fp16_to_fp32(load<uint16_t>(x, i)) *
                                   fp16_to_fp32(load<uint16_t>(y, i)));
    }
    return static_cast<float>(sum);
}

float vec_dot_bf16(int64_t n, const void* x, const void* y) noexcept {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(bf16_to_fp32(load<uint16_t>(x, i)) *
                                   bf16_to_fp32(load<uint16_t>(y, i)));
    }
    return static_cast<float>(sum);
}

}  // namespace loom::quant

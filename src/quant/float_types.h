// The plain float tensor types F32, F16 (IEEE 754 binary16) and BF16 (bfloat16): bit-exact
// scalar conversions to and from fp32, and the reference row functions of the quant type
// table (dequantize, quantize, dot). The fp16 <-> fp32 conversions are also the scales of
// every quantized block.
//
// Conversions:
//   fp16 -> fp32 and bf16 -> fp32 are exact for every number (subnormals, infinities);
//   an fp16 NaN keeps its sign and payload and is made quiet (as the F16C instruction
//   vcvtph2ps and ggml's ggml_fp16_to_fp32 do); a bf16 NaN is passed through unchanged.
//   fp32 -> fp16 rounds to nearest, ties to even; subnormal fp16 results are produced
//   (no flush to zero); values from 65520 up overflow to infinity; a NaN stays a NaN of
//   the same sign, made quiet, keeping the top 10 bits of its payload (as the x86 F16C
//   instruction vcvtps2ph does).
//   fp32 -> bf16 rounds to nearest, ties to even; a NaN is made quiet by setting bit 6
//   and otherwise truncated (ggml_compute_fp32_to_bf16 in ggml src/ggml-impl.h).
//
// Dot products follow ggml's CPU reference (ggml_vec_dot_f32 / _f16 / _bf16 in
// ggml-cpu/vec.cpp, scalar branch): each product in fp32, summed in double, the sum
// returned as float. The partner of each of these types is the type itself.
//
// Not here: vectorized conversion (F16C, AVX512-BF16) belongs to src/kernels/.
// Spec: IEEE 754-2008 binary16; ggml include/ggml.h, src/ggml-impl.h.
#pragma once

#include <bit>
#include <cstdint>

namespace loom::quant {

constexpr float fp16_to_fp32(uint16_t h) noexcept {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    uint32_t bits = 0;
    if (exponent == 0x1f) {
        // Infinity, or NaN: payload kept, quiet bit set.
        bits = sign | 0x7f800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0u);
    } else if (exponent != 0) {
        bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;  // signed zero
    } else {
        // Subnormal: mantissa * 2^-24. With p the index of its highest set bit the value
        // is 2^(p-24) * 1.f, a normal fp32 with biased exponent p - 24 + 127.
        const int p = 31 - std::countl_zero(mantissa);
        const uint32_t fraction = (mantissa << (23 - p)) & 0x7fffffu;
        bits = sign | (static_cast<uint32_t>(p + 103) << 23) | fraction;
    }
    return std::bit_cast<float>(bits);
}

constexpr uint16_t fp32_to_fp16(float f) noexcept {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) {
        return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
    }
    if (a >= 0x477ff000u) {
        return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 (or inf): infinity
    }
    if (a >= 0x38800000u) {
        // Normal fp16 (>= 2^-14): rebias the exponent (127 -> 15), then round the 23-bit
        // fraction to 10 bits, ties to even; a carry moves into the exponent correctly.
        uint32_t v = a - (112u << 23);
        v += 0xfffu + ((v >> 13) & 1u);
        return static_cast<uint16_t>(sign | (v >> 13));
    }
    const uint32_t biased = a >> 23;
    if (biased < 102) {
        return static_cast<uint16_t>(sign);  // below 2^-25 (fp32 subnormals too): zero
    }
    // Subnormal fp16: round(value / 2^-24). value = m * 2^(biased - 150) with the 24-bit
    // significand m, so the quotient is m >> (126 - biased), shift between 14 and 24.
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - biased;
    uint32_t q = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (q & 1u))) {
        ++q;  // may become 0x400, the smallest normal: the encoding carries over
    }
    return static_cast<uint16_t>(sign | q);
}

constexpr float bf16_to_fp32(uint16_t h) noexcept {
    return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

constexpr uint16_t fp32_to_bf16(float f) noexcept {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return static_cast<uint16_t>((x >> 16) | 64u);  // NaN: force quiet
    }
    return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// Row functions of the type table (quant_type.h). n is the element count; out holds n
// floats, blocks n elements of the type.
void dequantize_row_f32(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_f16(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_bf16(const void* blocks, float* out, int64_t n) noexcept;

void quantize_row_f32(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_f16(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_bf16(const float* in, void* blocks, int64_t n) noexcept;

float vec_dot_f32(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_f16(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_bf16(int64_t n, const void* x, const void* y) noexcept;

}  // namespace loom::quant

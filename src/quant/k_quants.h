// The k-quants: super-blocks of 256 weights in 16 sub-blocks of 16 (Q2_K, Q3_K, Q6_K) or
// 8 of 32 (Q4_K, Q5_K) with quantized sub-block scales, and Q8_K, their activation
// partner. Block structs and scalar reference kernels:
//   dequantize_row_*  bit-exact with ggml's dequantize_row_* (and gguf-py's numpy code);
//   quantize_row_*    ggml's quantize_row_*_ref algorithms without importance matrix
//                     (make_qkx2_quants for Q2_K / Q4_K / Q5_K, make_q3_quants for Q3_K,
//                     make_qx_quants for Q6_K, absmax for Q8_K): the same bytes as
//                     llama-quantize without imatrix (checked by the pytest suite);
//   vec_dot_*_q8_K    ggml's scalar dots with a Q8_K row: integer sums per sub-block
//                     times the 6/8-bit scales, mins through Q8_K's bsums.
// n is an element count and must be a multiple of 256. Inputs to quantize must be finite.
// Not here: SIMD kernels (src/kernels/), importance-matrix quantization (llama-quantize's
// quantize_row_*_impl), the QK_K = 64 variant.
// Spec: ggml src/ggml-common.h, src/ggml-quants.c, src/ggml-cpu/quants.c
// (ggml_vec_dot_*_q8_K_generic); shared/research/inference.md section 2.
#pragma once

#include <cstdint>

namespace loom::quant {

// x = d * (scales[k] & 0xF) * q2 - dmin * (scales[k] >> 4), sub-block k of 16 weights.
struct BlockQ2_K {
    uint8_t scales[16];  // low nibble scale, high nibble min
    uint8_t qs[64];      // 2-bit levels: byte l of each 32-byte half holds 4 weights
    uint16_t d;          // fp16 super-block scale of the scales
    uint16_t dmin;       // fp16 super-block scale of the mins
};
static_assert(sizeof(BlockQ2_K) == 84);

// x = d * (scale6 - 32) * (q2 - (hmask bit ? 0 : 4)).
struct BlockQ3_K {
    uint8_t hmask[32];   // high bit of the 3-bit levels
    uint8_t qs[64];      // low 2 bits
    uint8_t scales[12];  // 16 6-bit scales: low nibbles in bytes 0-7, high 2 bits in 8-11
    uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// x = d * scale6 * q4 - dmin * min6, sub-block k of 32 weights (get_scale_min_k4 packing).
struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];  // 8 6-bit scales and 8 6-bit mins
    uint8_t qs[128];     // per 64 weights: 32 bytes, low nibbles first 32, high next 32
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[32];      // 5th bits: chunk c of 64 uses bits 2c (low) and 2c+1 (high)
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176);

// x = d * scales[k] * (q6 - 32), sub-block k of 16 weights.
struct BlockQ6_K {
    uint8_t ql[128];     // low 4 bits
    uint8_t qh[64];      // high 2 bits
    int8_t scales[16];
    uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation side only: x = d * qs, bsums[k] = sum of qs[16k .. 16k+15].
struct BlockQ8_K {
    float d;             // fp32 scale
    int8_t qs[256];
    int16_t bsums[16];
};
static_assert(sizeof(BlockQ8_K) == 292);

void dequantize_row_q2_K(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q3_K(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q4_K(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q5_K(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q6_K(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q8_K(const void* blocks, float* out, int64_t n) noexcept;

void quantize_row_q2_K(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q3_K(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q4_K(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q5_K(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q6_K(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q8_K(const float* in, void* blocks, int64_t n) noexcept;

// x: n elements of the named type; y: n elements of Q8_K.
float vec_dot_q2_K_q8_K(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q3_K_q8_K(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q4_K_q8_K(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q5_K_q8_K(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q6_K_q8_K(int64_t n, const void* x, const void* y) noexcept;

// Sub-block j (0..7) scale and min of a Q4_K / Q5_K block (ggml get_scale_min_k4).
void get_scale_min_k4(int j, const uint8_t* scales, uint8_t& scale, uint8_t& min) noexcept;

// Sub-block j (0..15) 6-bit scale of a Q3_K block, before the -32.
int q3_K_scale(const uint8_t* scales, int j) noexcept;

}  // namespace loom::quant

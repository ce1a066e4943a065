// The legacy block quants of 32 weights: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1. Block
// structs and scalar reference kernels:
//   dequantize_row_*  bit-exact with ggml's dequantize_row_* (and gguf-py's numpy code);
//   quantize_row_*    ggml's quantize_row_*_ref algorithms (absmax / min-max scales, no
//                     importance matrix), for synthetic models and activations; the
//                     pytest suite finds them bit-exact with ggml_quantize_chunk;
//   vec_dot_*         ggml's scalar dot of a weight row with its activation partner
//                     (integer sums per block times the fp16 scales): Q4_0 / Q5_0 / Q8_0
//                     with Q8_0, Q4_1 / Q5_1 with Q8_1.
// Q8_1 is activation-side only: it carries s = d * sum(qs) for the min term of Q4_1 and
// Q5_1. ggml has no dequantize for it; Loom's is x = d * qs.
// n is an element count and must be a multiple of 32. Inputs to quantize must be finite.
// Not here: SIMD kernels (src/kernels/), importance-matrix quantization.
// Spec: ggml src/ggml-common.h (block structs), src/ggml-quants.c (reference quantize and
// dequantize), src/ggml-cpu/quants.c (ggml_vec_dot_*_generic); docs in
// shared/research/inference.md section 2.
#pragma once

#include <cstdint>

namespace loom::quant {

struct BlockQ4_0 {
    uint16_t d;         // fp16 scale
    uint8_t qs[16];     // nibbles: low = weights 0..15, high = weights 16..31
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
    uint16_t d;         // fp16 scale
    uint16_t m;         // fp16 min
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];      // u32 LE: bit j is the 5th bit of weight j
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ8_1 {
    uint16_t d;
    uint16_t s;         // fp16 of d * sum(qs)
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36);

void dequantize_row_q4_0(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q4_1(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q5_0(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q5_1(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q8_0(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_q8_1(const void* blocks, float* out, int64_t n) noexcept;

void quantize_row_q4_0(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q4_1(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q5_0(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q5_1(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q8_0(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_q8_1(const float* in, void* blocks, int64_t n) noexcept;

// x: n elements of the named weight type; y: n elements of its partner.
float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y) noexcept;

}  // namespace loom::quant

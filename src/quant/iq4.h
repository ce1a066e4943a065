// The non-linear 4-bit quants IQ4_NL (blocks of 32, one fp16 scale) and IQ4_XS
// (super-blocks of 256 with 6-bit sub-block scales): each 4-bit index selects one of 16
// fixed levels (kIq4nlValues), x = scale * value. Block structs and scalar reference
// kernels:
//   dequantize_row_*  bit-exact with ggml's dequantize_row_iq4_nl / _iq4_xs;
//   quantize_row_*    what llama-quantize writes without importance matrix: ggml's
//                     quantize_iq4_nl / quantize_iq4_xs (quantize_row_iq4_nl_impl with
//                     weights x^2 and 7 scale tries each side). Note: ggml's
//                     quantize_row_iq4_nl_ref is a cheaper variant (no scale search) used
//                     for runtime conversion; Loom follows the file-writing path;
//   vec_dot_*         ggml's scalar dots: IQ4_NL with Q8_0, IQ4_XS with Q8_K.
// n must be a multiple of 32 (IQ4_NL) or 256 (IQ4_XS). Inputs to quantize must be finite.
// Not here: SIMD kernels, importance-matrix quantization.
// Spec: ggml src/ggml-common.h (block_iq4_nl, block_iq4_xs, kvalues_iq4nl),
// src/ggml-quants.c, src/ggml-cpu/quants.c; shared/research/inference.md section 2.
#pragma once

#include <cstdint>

namespace loom::quant {

// The 16 levels shared by IQ4_NL and IQ4_XS (kvalues_iq4nl), sorted.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

struct BlockIQ4_NL {
    uint16_t d;          // fp16 scale
    uint8_t qs[16];      // indices: low nibbles weights 0..15, high nibbles 16..31
};
static_assert(sizeof(BlockIQ4_NL) == 18);

struct BlockIQ4_XS {
    uint16_t d;          // fp16 super-block scale
    uint16_t scales_h;   // high 2 bits of the 8 6-bit scales (bits 2k, 2k+1)
    uint8_t scales_l[4]; // low 4 bits: sub-block 2k in the low nibble of byte k
    uint8_t qs[128];     // per 32 weights, 16 bytes laid out as IQ4_NL's
};
static_assert(sizeof(BlockIQ4_XS) == 136);

void dequantize_row_iq4_nl(const void* blocks, float* out, int64_t n) noexcept;
void dequantize_row_iq4_xs(const void* blocks, float* out, int64_t n) noexcept;

void quantize_row_iq4_nl(const float* in, void* blocks, int64_t n) noexcept;
void quantize_row_iq4_xs(const float* in, void* blocks, int64_t n) noexcept;

float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y) noexcept;
float vec_dot_iq4_xs_q8_K(int64_t n, const void* x, const void* y) noexcept;

}  // namespace loom::quant

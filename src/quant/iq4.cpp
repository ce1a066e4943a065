// Reference kernels of IQ4_NL and IQ4_XS: see iq4.h. The order of floating-point
// operations copies ggml's C code (ggml-quants.c, ggml-cpu/quants.c _generic).
#include "quant/iq4.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/float_types.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"
#include "quant/scale_search.h"

namespace loom::quant {
namespace {

using detail::best_index_int8;
using detail::nearest_int;

constexpr int kTries = 7;  // ggml's ntry for both reference quantizers

int iq4_xs_scale(const BlockIQ4_XS& b, int ib) noexcept {
    return ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((b.scales_h >> (2 * ib)) & 3) << 4);
}

// ggml's quantize_row_iq4_nl_impl without importance matrix and with ntry = 7 (as
// quantize_iq4_nl / quantize_iq4_xs call it), for one IQ4_NL block (super_block == 32)
// or one IQ4_XS super-block (super_block == 256). Sub-blocks are 32.
void quantize_iq4_impl(int super_block, const float* x, uint16_t& dh, uint8_t* q4,
                       uint16_t* scales_h, uint8_t* scales_l) noexcept {
    const int8_t* values = kIq4nlValues;
    const int n_sub = super_block / 32;
    float scales[8] = {};
    float weight[32];
    uint8_t levels[256] = {};
    std::memset(q4, 0, static_cast<size_t>(super_block / 2));
    dh = fp32_to_fp16(0.0f);
    float max_scale = 0.0f;
    float amax_scale = 0.0f;
    for (int ib = 0; ib < n_sub; ++ib) {
        const float* xb = x + ib * 32;
        uint8_t* lb = levels + ib * 32;
        for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < 32; ++j) {
            const float ax = std::fabs(xb[j]);
            if (ax > amax) {
                amax = ax;
                max = xb[j];
            }
        }
        if (amax < detail::kGroupMaxEps) {
            scales[ib] = 0;
            std::memset(lb, 0, 32);
            continue;
        }
        float d = -max / values[0];
        float id = 1 / d;
        float sumqx = 0.0f;
        float sumq2 = 0.0f;
        for (int j = 0; j < 32; ++j) {
            const int l = best_index_int8(16, values, id * xb[j]);
            lb[j] = static_cast<uint8_t>(l);
            const auto q = static_cast<float>(values[l]);
            sumqx += weight[j] * q * xb[j];
            sumq2 += weight[j] * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
        float best = d * sumqx;
        for (int itry = -kTries; itry <= kTries; ++itry) {
            id = static_cast<float>(itry + values[0]) / max;
            sumqx = 0.0f;
            sumq2 = 0.0f;
            for (int j = 0; j < 32; ++j) {
                const int l = best_index_int8(16, values, id * xb[j]);
                const auto q = static_cast<float>(values[l]);
                sumqx += weight[j] * q * xb[j];
                sumq2 += weight[j] * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        if (std::fabs(d) > amax_scale) {
            amax_scale = std::fabs(d);
            max_scale = d;
        }
    }

    if (n_sub > 1) {
        *scales_h = 0;
        const float d = -max_scale / 32;
        dh = fp32_to_fp16(d);
        const float id = d != 0.0f ? 1 / d : 0.0f;
        for (int ib = 0; ib < n_sub; ++ib) {
            int l = std::max(-32, std::min(31, nearest_int(id * scales[ib])));
            // ggml rescales with the unrounded d, not the fp16 one it stores.
            const float dl = d * static_cast<float>(l);
            const float idl = dl != 0.0f ? 1 / dl : 0.0f;
            for (int j = 0; j < 32; ++j) {
                levels[ib * 32 + j] =
                    static_cast<uint8_t>(best_index_int8(16, values, idl * x[ib * 32 + j]));
            }
            l += 32;
            const auto l_l = static_cast<uint8_t>(l & 0x0f);
            const auto l_h = static_cast<uint16_t>(l >> 4);
            if (ib % 2 == 0) {
                scales_l[ib / 2] = l_l;
            } else {
                scales_l[ib / 2] |= static_cast<uint8_t>(l_l << 4);
            }
            *scales_h |= static_cast<uint16_t>(l_h << (2 * (ib % 8)));
        }
    } else {
        dh = fp32_to_fp16(scales[0]);
        const float id = scales[0] != 0.0f ? 1 / scales[0] : 0.0f;
        for (int j = 0; j < super_block; ++j) {
            levels[j] = static_cast<uint8_t>(best_index_int8(16, values, id * x[j]));
        }
    }

    for (int i = 0; i < super_block / 32; ++i) {
        for (int j = 0; j < 16; ++j) {
            q4[16 * i + j] =
                static_cast<uint8_t>(levels[32 * i + j] | (levels[32 * i + 16 + j] << 4));
        }
    }
}

}  // namespace

void dequantize_row_iq4_nl(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto b = load_block<BlockIQ4_NL>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        for (int j = 0; j < 16; ++j) {
            out[i * kQK + j] = d * static_cast<float>(kIq4nlValues[b.qs[j] & 0x0f]);
            out[i * kQK + j + 16] = d * static_cast<float>(kIq4nlValues[b.qs[j] >> 4]);
        }
    }
}

void dequantize_row_iq4_xs(const void* blocks, float* out, int64_t n) noexcept {
    float* y = out;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockIQ4_XS>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const uint8_t* qs = b.qs;
        for (int ib = 0; ib < 8; ++ib) {
            const float dl = d * static_cast<float>(iq4_xs_scale(b, ib) - 32);
            for (int j = 0; j < 16; ++j) {
                y[j] = dl * static_cast<float>(kIq4nlValues[qs[j] & 0x0f]);
                y[j + 16] = dl * static_cast<float>(kIq4nlValues[qs[j] >> 4]);
            }
            y += 32;
            qs += 16;
        }
    }
}

void quantize_row_iq4_nl(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK; ++i) {
        BlockIQ4_NL b{};
        uint16_t unused_h = 0;
        uint8_t unused_l[1] = {};
        quantize_iq4_impl(32, in + i * kQK, b.d, b.qs, &unused_h, unused_l);
        store_block(blocks, i, b);
    }
}

void quantize_row_iq4_xs(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        BlockIQ4_XS b{};
        quantize_iq4_impl(256, in + i * kQK_K, b.d, b.qs, &b.scales_h, b.scales_l);
        store_block(blocks, i, b);
    }
}

float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const auto bx = load_block<BlockIQ4_NL>(x, i);
        const auto by = load_block<BlockQ8_0>(y, i);
        const float d = fp16_to_fp32(by.d) * fp16_to_fp32(bx.d);
        int sumi1 = 0;
        int sumi2 = 0;
        for (int j = 0; j < 16; ++j) {
            sumi1 += by.qs[j] * kIq4nlValues[bx.qs[j] & 0x0f];
            sumi2 += by.qs[j + 16] * kIq4nlValues[bx.qs[j] >> 4];
        }
        sumf += d * static_cast<float>(sumi1 + sumi2);
    }
    return sumf;
}

float vec_dot_iq4_xs_q8_K(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto bx = load_block<BlockIQ4_XS>(x, i);
        const auto by = load_block<BlockQ8_K>(y, i);
        const float d4d8 = fp16_to_fp32(bx.d) * by.d;
        const uint8_t* qs = bx.qs;
        const int8_t* q8 = by.qs;
        for (int ib = 0; ib < 8; ++ib) {
            const float dl = d4d8 * static_cast<float>(iq4_xs_scale(bx, ib) - 32);
            int sumi1 = 0;
            int sumi2 = 0;
            for (int j = 0; j < 16; ++j) {
                sumi1 += q8[j] * kIq4nlValues[qs[j] & 0x0f];
                sumi2 += q8[j + 16] * kIq4nlValues[qs[j] >> 4];
            }
            sumf += dl * static_cast<float>(sumi1 + sumi2);
            qs += 16;
            q8 += 32;
        }
    }
    return sumf;
}

}  // namespace loom::quant

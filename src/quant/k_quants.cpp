// Reference kernels of the k-quants (Q2_K ... Q6_K, Q8_K): see k_quants.h. The order of
// floating-point operations copies ggml's C code (dequantize and quantize from
// ggml-quants.c, dots from ggml-cpu/quants.c _generic, including their eight partial float
// sums), so that results match to the last bit.
#include "quant/k_quants.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/float_types.h"
#include "quant/scale_search.h"

namespace loom::quant {

using detail::nearest_int;

void get_scale_min_k4(int j, const uint8_t* scales, uint8_t& scale, uint8_t& min) noexcept {
    if (j < 4) {
        scale = scales[j] & 63;
        min = scales[j + 4] & 63;
    } else {
        scale = static_cast<uint8_t>((scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4));
        min = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }
}

int q3_K_scale(const uint8_t* scales, int j) noexcept {
    const int low = j < 8 ? scales[j] & 0x0f : scales[j - 8] >> 4;
    const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return low | (high << 4);
}

namespace {

// Packs the 8 6-bit scales and mins of a Q4_K / Q5_K block (inverse of get_scale_min_k4).
void pack_scale_min_k4(const uint8_t (&ls)[8], const uint8_t (&lm)[8], uint8_t* scales) noexcept {
    std::memset(scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
}

// Steps shared by the Q4_K and Q5_K reference quantizers: 8 sub-blocks of 32 fitted by
// make_qkx2_quants, their scales and mins quantized to 6 bits against the largest, and
// the levels recomputed with the rounded scales. nmax is 15 (Q4_K) or 31 (Q5_K).
void quantize_q4_5_K_levels(const float* x, int nmax, float rmin, int nstep, uint16_t& d_out,
                            uint16_t& dmin_out, uint8_t* scales_out, uint8_t* levels) noexcept {
    uint8_t scratch[32];
    float weights[32];
    float mins[8];
    float scales[8];
    float max_scale = 0.0f;
    float max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
        scales[j] = detail::make_qkx2_quants(32, nmax, x + 32 * j, weights, levels + 32 * j,
                                             &mins[j], scratch, rmin, 0.1f, nstep, false);
        max_scale = std::max(max_scale, scales[j]);
        max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[8];
    uint8_t lm[8];
    for (int j = 0; j < 8; ++j) {
        // ggml stores nearest_int in a uint8_t before the clamp (a negative wraps high).
        ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
        lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    }
    pack_scale_min_k4(ls, lm, scales_out);
    d_out = fp32_to_fp16(max_scale / 63.0f);
    dmin_out = fp32_to_fp16(max_min / 63.0f);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc = 0;
        uint8_t m = 0;
        get_scale_min_k4(j, scales_out, sc, m);
        const float d = fp16_to_fp32(d_out) * sc;
        if (d == 0.0f) continue;
        const float dm = fp16_to_fp32(dmin_out) * m;
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearest_int((x[32 * j + ii] + dm) / d);
            levels[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        }
    }
}

}  // namespace

// ---- dequantize --------------------------------------------------------------------

void dequantize_row_q2_K(const void* blocks, float* out, int64_t n) noexcept {
    float* y = out;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockQ2_K>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const float min = fp16_to_fp32(b.dmin);
        const uint8_t* q = b.qs;
        int is = 0;
        for (int half = 0; half < 2; ++half) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; ++part) {
                    const uint8_t sc = b.scales[is++];
                    const float dl = d * static_cast<float>(sc & 0x0f);
                    const float ml = min * static_cast<float>(sc >> 4);
                    for (int l = 0; l < 16; ++l) {
                        const int v = (q[l + 16 * part] >> shift) & 3;
                        *y++ = dl * static_cast<float>(v) - ml;
                    }
                }
            }
            q += 32;
        }
    }
}

void dequantize_row_q3_K(const void* blocks, float* out, int64_t n) noexcept {
    float* y = out;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockQ3_K>(blocks, i);
        const float d_all = fp16_to_fp32(b.d);
        const uint8_t* q = b.qs;
        uint8_t m = 1;
        int is = 0;
        for (int half = 0; half < 2; ++half) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; ++part) {
                    const float dl = d_all * static_cast<float>(q3_K_scale(b.scales, is++) - 32);
                    for (int l = 0; l < 16; ++l) {
                        const int k = l + 16 * part;
                        const int v = ((q[k] >> shift) & 3) - ((b.hmask[k] & m) ? 0 : 4);
                        *y++ = dl * static_cast<float>(v);
                    }
                }
                m = static_cast<uint8_t>(m << 1);
            }
            q += 32;
        }
    }
}

void dequantize_row_q4_K(const void* blocks, float* out, int64_t n) noexcept {
    float* y = out;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockQ4_K>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const float min = fp16_to_fp32(b.dmin);
        const uint8_t* q = b.qs;
        for (int is = 0; is < 8; is += 2) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(is, b.scales, sc, m);
            const float d1 = d * sc;
            const float m1 = min * m;
            get_scale_min_k4(is + 1, b.scales, sc, m);
            const float d2 = d * sc;
            const float m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
            q += 32;
        }
    }
}

void dequantize_row_q5_K(const void* blocks, float* out, int64_t n) noexcept {
    float* y = out;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockQ5_K>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const float min = fp16_to_fp32(b.dmin);
        const uint8_t* ql = b.qs;
        uint8_t u1 = 1;
        uint8_t u2 = 2;
        for (int is = 0; is < 8; is += 2) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(is, b.scales, sc, m);
            const float d1 = d * sc;
            const float m1 = min * m;
            get_scale_min_k4(is + 1, b.scales, sc, m);
            const float d2 = d * sc;
            const float m2 = min * m;
            for (int l = 0; l < 32; ++l) {
                const int v = (ql[l] & 0x0f) + ((b.qh[l] & u1) ? 16 : 0);
                *y++ = d1 * static_cast<float>(v) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                const int v = (ql[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0);
                *y++ = d2 * static_cast<float>(v) - m2;
            }
            ql += 32;
            u1 = static_cast<uint8_t>(u1 << 2);
            u2 = static_cast<uint8_t>(u2 << 2);
        }
    }
}

void dequantize_row_q6_K(const void* blocks, float* out, int64_t n) noexcept {
    float* y = out;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockQ6_K>(blocks, i);
        const float d = fp16_to_fp32(b.d);
        const uint8_t* ql = b.ql;
        const uint8_t* qh = b.qh;
        const int8_t* sc = b.scales;
        for (int chunk = 0; chunk < 2; ++chunk) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

void dequantize_row_q8_K(const void* blocks, float* out, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto b = load_block<BlockQ8_K>(blocks, i);
        for (int j = 0; j < 256; ++j) out[i * kQK_K + j] = b.d * static_cast<float>(b.qs[j]);
    }
}

// ---- quantize (ggml quantize_row_*_ref) ----------------------------------------------

void quantize_row_q2_K(const float* in, void* blocks, int64_t n) noexcept {
    constexpr float q4scale = 15.0f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float* x = in + i * kQK_K;
        uint8_t levels[256];
        uint8_t scratch[16];
        float weights[16];
        float mins[16];
        float scales[16];
        float max_scale = 0.0f;
        float max_min = 0.0f;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
            scales[j] = detail::make_qkx2_quants(16, 3, x + 16 * j, weights, levels + 16 * j,
                                                 &mins[j], scratch, -0.5f, 0.1f, 15, true);
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        BlockQ2_K b{};
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < 16; ++j) {
                b.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
            }
            b.d = fp32_to_fp16(max_scale / q4scale);
        } else {
            b.d = fp32_to_fp16(0.0f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < 16; ++j) {
                b.scales[j] |= static_cast<uint8_t>(nearest_int(iscale * mins[j]) << 4);
            }
            b.dmin = fp32_to_fp16(max_min / q4scale);
        } else {
            b.dmin = fp32_to_fp16(0.0f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fp16_to_fp32(b.d) * static_cast<float>(b.scales[j] & 0x0f);
            if (d == 0.0f) continue;
            const float dm = fp16_to_fp32(b.dmin) * static_cast<float>(b.scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int((x[16 * j + ii] + dm) / d);
                levels[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
            }
        }
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; ++l) {
                b.qs[j / 4 + l] = static_cast<uint8_t>(
                    levels[j + l] | (levels[j + l + 32] << 2) | (levels[j + l + 64] << 4) |
                    (levels[j + l + 96] << 6));
            }
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q3_K(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float* x = in + i * kQK_K;
        int8_t levels[256];
        float scales[16];
        float max_scale = 0.0f;
        float amax = 0.0f;
        for (int j = 0; j < 16; ++j) {
            scales[j] = detail::make_q3_quants(16, 4, x + 16 * j, levels + 16 * j, true);
            const float scale = std::fabs(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        BlockQ3_K b{};
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; ++j) {
                // ggml stores nearest_int in an int8_t before the clamp.
                auto l8 = static_cast<int8_t>(nearest_int(iscale * scales[j]));
                int l = std::max<int>(-32, std::min<int>(31, l8)) + 32;
                if (j < 8) {
                    b.scales[j] = static_cast<uint8_t>(l & 0x0f);
                } else {
                    b.scales[j - 8] |= static_cast<uint8_t>((l & 0x0f) << 4);
                }
                l >>= 4;
                b.scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
            }
            b.d = fp32_to_fp16(1 / iscale);
        } else {
            b.d = fp32_to_fp16(0.0f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fp16_to_fp32(b.d) * static_cast<float>(q3_K_scale(b.scales, j) - 32);
            if (d == 0.0f) continue;
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int(x[16 * j + ii] / d);
                levels[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
            }
        }
        // The high bit of weights 0..31 goes to bit 0 of hmask[0..31], of 32..63 to bit 1...
        int m = 0;
        uint8_t hm = 1;
        for (int j = 0; j < 256; ++j) {
            if (levels[j] > 3) {
                b.hmask[m] |= hm;
                levels[j] = static_cast<int8_t>(levels[j] - 4);
            }
            if (++m == 32) {
                m = 0;
                hm = static_cast<uint8_t>(hm << 1);
            }
        }
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; ++l) {
                b.qs[j / 4 + l] = static_cast<uint8_t>(
                    levels[j + l] | (levels[j + l + 32] << 2) | (levels[j + l + 64] << 4) |
                    (levels[j + l + 96] << 6));
            }
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q4_K(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        uint8_t levels[256];
        BlockQ4_K b{};
        quantize_q4_5_K_levels(in + i * kQK_K, 15, -1.0f, 20, b.d, b.dmin, b.scales, levels);
        uint8_t* q = b.qs;
        for (int j = 0; j < 256; j += 64) {
            for (int l = 0; l < 32; ++l) {
                q[l] = static_cast<uint8_t>(levels[j + l] | (levels[j + l + 32] << 4));
            }
            q += 32;
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q5_K(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        uint8_t levels[256];
        BlockQ5_K b{};
        quantize_q4_5_K_levels(in + i * kQK_K, 31, -0.5f, 15, b.d, b.dmin, b.scales, levels);
        uint8_t* ql = b.qs;
        uint8_t m1 = 1;
        uint8_t m2 = 2;
        for (int chunk = 0; chunk < 256; chunk += 64) {
            for (int j = 0; j < 32; ++j) {
                int l1 = levels[chunk + j];
                if (l1 > 15) {
                    l1 -= 16;
                    b.qh[j] |= m1;
                }
                int l2 = levels[chunk + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    b.qh[j] |= m2;
                }
                ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
            }
            m1 = static_cast<uint8_t>(m1 << 2);
            m2 = static_cast<uint8_t>(m2 << 2);
            ql += 32;
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q6_K(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float* x = in + i * kQK_K;
        int8_t levels[256];
        float scales[16];
        float max_scale = 0.0f;
        float max_abs_scale = 0.0f;
        for (int ib = 0; ib < 16; ++ib) {
            const float scale =
                detail::make_qx_quants(16, 32, x + 16 * ib, levels + 16 * ib, 1, nullptr);
            scales[ib] = scale;
            const float abs_scale = std::fabs(scale);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scale;
            }
        }
        BlockQ6_K b{};
        if (max_abs_scale < detail::kGroupMaxEps) {
            store_block(blocks, i, b);  // all zero, d = +0
            continue;
        }
        const float iscale = -128.0f / max_scale;
        b.d = fp32_to_fp16(1 / iscale);
        for (int ib = 0; ib < 16; ++ib) {
            b.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fp16_to_fp32(b.d) * static_cast<float>(b.scales[j]);
            if (d == 0.0f) continue;
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int(x[16 * j + ii] / d);
                levels[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
            }
        }
        uint8_t* ql = b.ql;
        uint8_t* qh = b.qh;
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; ++l) {
                const int q1 = levels[j + l] & 0x0f;
                const int q2 = levels[j + l + 32] & 0x0f;
                const int q3 = levels[j + l + 64] & 0x0f;
                const int q4 = levels[j + l + 96] & 0x0f;
                ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
                ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
                qh[l] = static_cast<uint8_t>(
                    (levels[j + l] >> 4) | ((levels[j + l + 32] >> 4) << 2) |
                    ((levels[j + l + 64] >> 4) << 4) | ((levels[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
        store_block(blocks, i, b);
    }
}

void quantize_row_q8_K(const float* in, void* blocks, int64_t n) noexcept {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float* x = in + i * kQK_K;
        float max = 0.0f;
        float amax = 0.0f;
        for (int j = 0; j < 256; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        BlockQ8_K b{};
        if (amax == 0.0f) {
            store_block(blocks, i, b);
            continue;
        }
        // ggml uses -127 (not -128) so that IQ2_XXS kernels never see -128.
        const float iscale = -127.0f / max;
        for (int j = 0; j < 256; ++j) {
            b.qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
        }
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) sum += b.qs[j * 16 + ii];
            b.bsums[j] = static_cast<int16_t>(sum);
        }
        b.d = 1 / iscale;
        store_block(blocks, i, b);
    }
}

// ---- dot products (ggml_vec_dot_*_q8_K_generic) ------------------------------------

namespace {

// The common tail of the Q3_K ... Q6_K dots: the 256 levels a (as int8) times q8, summed
// per sub-block of 16 with its scale into eight int32 lanes, as ggml's scalar code does
// (the lane split fixes the float rounding of the final sum).
void accumulate_lanes(const int8_t* a, const int8_t* q8, const int* scale16, int32_t (&aux32)[8]) {
    std::fill(aux32, aux32 + 8, 0);
    for (int j = 0; j < 16; ++j) {
        for (int half = 0; half < 2; ++half) {
            for (int l = 0; l < 8; ++l) {
                const int k = 16 * j + 8 * half + l;
                const auto aux16 = static_cast<int16_t>(q8[k] * a[k]);
                aux32[l] += scale16[j] * aux16;
            }
        }
    }
}

}  // namespace

float vec_dot_q2_K_q8_K(int64_t n, const void* x, const void* y) noexcept {
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto bx = load_block<BlockQ2_K>(x, i);
        const auto by = load_block<BlockQ8_K>(y, i);
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += by.bsums[j] * (bx.scales[j] >> 4);
        const float dall = by.d * fp16_to_fp32(bx.d);
        const float dmin = by.d * fp16_to_fp32(bx.dmin);
        int isum = 0;
        int is = 0;
        const int8_t* q8 = by.qs;
        for (int half = 0; half < 2; ++half) {
            const uint8_t* q2 = bx.qs + 32 * half;
            for (int shift = 0; shift < 8; shift += 2) {
                int d = bx.scales[is++] & 0x0f;
                int isuml = 0;
                for (int l = 0; l < 16; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
                isum += d * isuml;
                d = bx.scales[is++] & 0x0f;
                isuml = 0;
                for (int l = 16; l < 32; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
                isum += d * isuml;
                q8 += 32;
            }
        }
        sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
    }
    return sumf;
}

float vec_dot_q3_K_q8_K(int64_t n, const void* x, const void* y) noexcept {
    float sums[8] = {};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto bx = load_block<BlockQ3_K>(x, i);
        const auto by = load_block<BlockQ8_K>(y, i);
        int8_t a[256];
        int8_t* p = a;
        uint8_t m = 1;
        for (int half = 0; half < 2; ++half) {
            const uint8_t* q3 = bx.qs + 32 * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int l = 0; l < 32; ++l) {
                    const int high = (bx.hmask[l] & m) ? 0 : 4;
                    p[l] = static_cast<int8_t>(((q3[l] >> shift) & 3) - high);
                }
                p += 32;
                m = static_cast<uint8_t>(m << 1);
            }
        }
        int scale16[16];
        for (int j = 0; j < 16; ++j) scale16[j] = q3_K_scale(bx.scales, j) - 32;
        int32_t aux32[8];
        accumulate_lanes(a, by.qs, scale16, aux32);
        const float d = fp16_to_fp32(bx.d) * by.d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    float sumf = 0.0f;
    for (float s : sums) sumf += s;
    return sumf;
}

namespace {

// Q4_K and Q5_K: levels a (0..15 or 0..31) and the mins through bsums.
float dot_q4_5_K(int64_t n, const void* x, const void* y, bool five_bits) noexcept {
    float sums[8] = {};
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        uint16_t xd = 0;
        uint16_t xdmin = 0;
        uint8_t scales[12];
        int8_t a[256];
        if (five_bits) {
            const auto bx = load_block<BlockQ5_K>(x, i);
            xd = bx.d;
            xdmin = bx.dmin;
            std::memcpy(scales, bx.scales, 12);
            uint8_t m = 1;
            for (int chunk = 0; chunk < 4; ++chunk) {
                const uint8_t* q4 = bx.qs + 32 * chunk;
                for (int l = 0; l < 32; ++l) {
                    a[64 * chunk + l] =
                        static_cast<int8_t>((q4[l] & 0x0f) + ((bx.qh[l] & m) ? 16 : 0));
                }
                m = static_cast<uint8_t>(m << 1);
                for (int l = 0; l < 32; ++l) {
                    a[64 * chunk + 32 + l] =
                        static_cast<int8_t>((q4[l] >> 4) + ((bx.qh[l] & m) ? 16 : 0));
                }
                m = static_cast<uint8_t>(m << 1);
            }
        } else {
            const auto bx = load_block<BlockQ4_K>(x, i);
            xd = bx.d;
            xdmin = bx.dmin;
            std::memcpy(scales, bx.scales, 12);
            for (int chunk = 0; chunk < 4; ++chunk) {
                const uint8_t* q4 = bx.qs + 32 * chunk;
                for (int l = 0; l < 32; ++l) {
                    a[64 * chunk + l] = static_cast<int8_t>(q4[l] & 0x0f);
                    a[64 * chunk + 32 + l] = static_cast<int8_t>(q4[l] >> 4);
                }
            }
        }
        const auto by = load_block<BlockQ8_K>(y, i);
        int scale16[16];
        int mins[8];
        for (int j = 0; j < 8; ++j) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(j, scales, sc, m);
            scale16[2 * j] = sc;
            scale16[2 * j + 1] = sc;
            mins[j] = m;
        }
        int sumi = 0;
        for (int j = 0; j < 16; ++j) sumi += by.bsums[j] * mins[j / 2];
        int32_t aux32[8];
        accumulate_lanes(a, by.qs, scale16, aux32);
        const float d = fp16_to_fp32(xd) * by.d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
        const float dmin = fp16_to_fp32(xdmin) * by.d;
        sumf -= dmin * static_cast<float>(sumi);
    }
    for (float s : sums) sumf += s;
    return sumf;
}

}  // namespace

float vec_dot_q4_K_q8_K(int64_t n, const void* x, const void* y) noexcept {
    return dot_q4_5_K(n, x, y, false);
}

float vec_dot_q5_K_q8_K(int64_t n, const void* x, const void* y) noexcept {
    return dot_q4_5_K(n, x, y, true);
}

float vec_dot_q6_K_q8_K(int64_t n, const void* x, const void* y) noexcept {
    float sums[8] = {};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const auto bx = load_block<BlockQ6_K>(x, i);
        const auto by = load_block<BlockQ8_K>(y, i);
        int8_t a[256];
        for (int chunk = 0; chunk < 2; ++chunk) {
            const uint8_t* q4 = bx.ql + 64 * chunk;
            const uint8_t* qh = bx.qh + 32 * chunk;
            int8_t* p = a + 128 * chunk;
            for (int l = 0; l < 32; ++l) {
                p[l] = static_cast<int8_t>(((q4[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
                p[l + 32] =
                    static_cast<int8_t>(((q4[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
                p[l + 64] = static_cast<int8_t>(((q4[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                p[l + 96] =
                    static_cast<int8_t>(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int scale16[16];
        for (int j = 0; j < 16; ++j) scale16[j] = bx.scales[j];
        int32_t aux32[8];
        accumulate_lanes(a, by.qs, scale16, aux32);
        const float d = fp16_to_fp32(bx.d) * by.d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    float sumf = 0.0f;
    for (float s : sums) sumf += s;
    return sumf;
}

}  // namespace loom::quant

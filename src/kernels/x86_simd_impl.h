// The x86 SIMD kernels, compiled twice: by x86_avx2.cpp (AVX2 + FMA + F16C) and by
// x86_avx512.cpp (the same plus AVX-512 VNNI, whose dpbusd replaces maddubs + madd), each
// with its own compiler flags and namespace (LOOM_SIMD_NS), so the AVX2 build never holds
// an AVX-512 instruction. Include only from those two files; they define LOOM_SIMD_NS and
// LOOM_SIMD_VNNI first.
//
// Each weight type has a dot (one row, one activation row) and a rows kernel (rows
// [r0, r1) against n_tokens activation rows): the rows kernel unpacks each weight block
// once and dots it with up to four tokens, and for one token it is the dot exactly, so
// prompt processing and generation give the same numbers. Block layouts:
// src/quant/q_legacy.h, k_quants.h. Rows may start at any byte (unaligned loads).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86_dots.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"

namespace loom::kernels::LOOM_SIMD_NS {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_K;

constexpr int64_t kTile = 8;  // tokens per pass over a weight row (tile_*_n handle 1..8)

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

// Sum over pairs of u8 * i8 products into 8 int32 lanes (4 products per lane).
inline __m256i dot_u8_i8(__m256i u, __m256i s) {
#if LOOM_SIMD_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// Signed 8-bit dot (x in [-127, 127] or [-16, 15]): |x| . sign(x) * y.
inline __m256i dot_i8_i8(__m256i x, __m256i y) {
    return dot_u8_i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// 32 weights of a Q4_0 block as int8 in [-8, 7]: low nibbles are weights 0..15.
inline __m256i unpack_q4_0(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
}

// 0xFF in byte j where bit j of the 32-bit little-endian word is set.
inline __m256i bits_to_bytes(const uint8_t* bits) {
    uint32_t word;
    std::memcpy(&word, bits, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(word)),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// ---- F32, F16 -----------------------------------------------------------------------

float dot_f32(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const float*>(xv);
    const auto* y = static_cast<const float*>(yv);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

inline __m256 load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

float dot_f16(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const uint16_t*>(xv);
    const auto* y = static_cast<const uint16_t*>(yv);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(load_f16(x + i), load_f16(y + i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16(x + i + 8), load_f16(y + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_f16(x + i), load_f16(y + i), acc0);
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += fp16(x[i]) * fp16(y[i]);
    return sum;
}

// ---- legacy 32-weight blocks against Q8_0 -------------------------------------------

// A weight block type of 32 weights with an fp16 scale, unpacked to 32 int8.
struct Q8_0W {
    using Block = BlockQ8_0;
    static __m256i unpack(const Block& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }
};
struct Q4_0W {
    using Block = BlockQ4_0;
    static __m256i unpack(const Block& b) { return unpack_q4_0(b.qs); }
};
struct Q5_0W {
    using Block = BlockQ5_0;
    // Nibble plus 16 * (5th bit) minus 16: where the bit is clear, set the high nibble
    // (nibble - 16 as int8); where it is set, the nibble itself.
    static __m256i unpack(const Block& b) {
        const __m256i nib = _mm256_add_epi8(unpack_q4_0(b.qs), _mm256_set1_epi8(8));
        const __m256i high = _mm256_andnot_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(static_cast<char>(0xf0)));
        return _mm256_or_si256(nib, high);
    }
};

// Rows [r0, r1) of a legacy-type matrix against up to kTile activation rows at once:
// each weight block is unpacked once and dotted with every token's block. The AVX-512
// level takes two blocks per 512-bit step. dot_legacy is this with one token, so one
// token at a time and many at once give the same bits.
// nt is a template parameter so the accumulators live in registers (a runtime count
// keeps them on the stack, and every FMA then waits on a store-to-load round trip).
template <typename W, int nt>
void tile_legacy(const typename W::Block* x, int64_t nb, const BlockQ8_0* const* y, float* out) noexcept {
    int64_t i = 0;
#if LOOM_SIMD_VNNI
    __m512 acc2[kTile];
    #pragma GCC unroll 8
    for (int64_t k = 0; k < nt; ++k) acc2[k] = _mm512_setzero_ps();
    for (; i + 2 <= nb; i += 2) {
        const __m512i qx = _mm512_inserti64x4(_mm512_castsi256_si512(W::unpack(x[i])), W::unpack(x[i + 1]), 1);
        const __m512i ax = _mm512_abs_epi8(qx);
        const __mmask64 neg = _mm512_movepi8_mask(qx);
        const float dx0 = fp16(x[i].d), dx1 = fp16(x[i + 1].d);
        #pragma GCC unroll 8
        for (int64_t k = 0; k < nt; ++k) {
            const __m512i qy = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[k][i].qs))),
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[k][i + 1].qs)), 1);
            const __m512i sy = _mm512_mask_sub_epi8(qy, neg, _mm512_setzero_si512(), qy);
            const __m512i dp = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ax, sy);
            const __m256 d0 = _mm256_set1_ps(dx0 * fp16(y[k][i].d));
            const __m256 d1 = _mm256_set1_ps(dx1 * fp16(y[k][i + 1].d));
            const __m512 d = _mm512_castpd_ps(
                _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(d0)), _mm256_castps_pd(d1), 1));
            acc2[k] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dp), acc2[k]);
        }
    }
#endif
    __m256 acc[kTile];
    #pragma GCC unroll 8
    for (int64_t k = 0; k < nt; ++k) acc[k] = _mm256_setzero_ps();
    for (; i < nb; ++i) {
        const __m256i qx = W::unpack(x[i]);
        const float dx = fp16(x[i].d);
        #pragma GCC unroll 8
        for (int64_t k = 0; k < nt; ++k) {
            const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[k][i].qs));
            const __m256 d = _mm256_set1_ps(dx * fp16(y[k][i].d));
            acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i8(qx, qy)), acc[k]);
        }
    }
    #pragma GCC unroll 8
    for (int64_t k = 0; k < nt; ++k) {
#if LOOM_SIMD_VNNI
        out[k] = _mm512_reduce_add_ps(acc2[k]) + hsum(acc[k]);
#else
        out[k] = hsum(acc[k]);
#endif
    }
}

template <typename W>
void tile_legacy_n(const typename W::Block* x, int64_t nb, const BlockQ8_0* const* y, int64_t nt, float* out) noexcept {
    switch (nt) {
        case 1: return tile_legacy<W, 1>(x, nb, y, out);
        case 2: return tile_legacy<W, 2>(x, nb, y, out);
        case 3: return tile_legacy<W, 3>(x, nb, y, out);
        case 4: return tile_legacy<W, 4>(x, nb, y, out);
        case 5: return tile_legacy<W, 5>(x, nb, y, out);
        case 6: return tile_legacy<W, 6>(x, nb, y, out);
        case 7: return tile_legacy<W, 7>(x, nb, y, out);
        default: return tile_legacy<W, 8>(x, nb, y, out);
    }
}

template <typename W>
float dot_legacy(int64_t n, const void* xv, const void* yv) noexcept {
    const BlockQ8_0* y[1] = {static_cast<const BlockQ8_0*>(yv)};
    float out;
    tile_legacy<W, 1>(static_cast<const typename W::Block*>(xv), n / 32, y, &out);
    return out;
}

template <typename W>
void rows_legacy(const RowsArgs& a) noexcept {
    const int64_t nb = a.n_in / 32;
    for (int64_t r = a.r0; r < a.r1; ++r) {
        const auto* x = reinterpret_cast<const typename W::Block*>(a.w + static_cast<size_t>(r) * a.row_bytes);
        for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kTile) {
            const int64_t nt = a.n_tokens - t0 < kTile ? a.n_tokens - t0 : kTile;
            const BlockQ8_0* y[kTile];
            float out[kTile];
            for (int64_t k = 0; k < nt; ++k) {
                y[k] = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<size_t>(t0 + k) * a.xq_stride);
            }
            tile_legacy_n<W>(x, nb, y, nt, out);
            for (int64_t k = 0; k < nt; ++k) a.y[(t0 + k) * a.y_stride + r] = out[k];
        }
    }
}

// ---- k-quants against Q8_K ----------------------------------------------------------

// Q4_K super-block, unpacked: 8 sub-blocks of 32 levels (0..15), their 6-bit scales and
// mins, and the two fp16 super-scales.
struct Q4K {
    using Block = BlockQ4_K;
    struct Unpacked {
        __m256i q[8];
        int32_t sc[8];
        int32_t mn[8];
        float d, dmin;
    };
    static void unpack(const Block& b, Unpacked& u) {
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        for (int k = 0; k < 4; ++k) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * k));
            u.q[2 * k] = _mm256_and_si256(q, low4);
            u.q[2 * k + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        }
        for (int j = 0; j < 8; ++j) {
            uint8_t sc, mn;
            quant::get_scale_min_k4(j, b.scales, sc, mn);
            u.sc[j] = sc;
            u.mn[j] = mn;
        }
        u.d = fp16(b.d);
        u.dmin = fp16(b.dmin);
    }
    static float dot(const Unpacked& u, const BlockQ8_K& y) {
        __m256i acc = _mm256_setzero_si256();
        int32_t mins = 0;
        for (int j = 0; j < 8; ++j) {
            const __m256i act = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * j));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(dot_u8_i8(u.q[j], act), _mm256_set1_epi32(u.sc[j])));
            mins += u.mn[j] * (y.bsums[2 * j] + y.bsums[2 * j + 1]);
        }
        return y.d * u.d * static_cast<float>(hsum_i32(acc)) - y.d * u.dmin * static_cast<float>(mins);
    }
};

// Q6_K super-block, unpacked: 8 groups of 32 levels stored with +32 (0..63), 16 int8
// scales of 16 weights each, the fp16 super-scale.
struct Q6K {
    using Block = BlockQ6_K;
    struct Unpacked {
        __m256i q[8];
        __m256i scale[8];  // int16 scale pairs: low lane half weights 0..15, high 16..31
        int32_t sc[16];
        float d;
    };
    static void unpack(const Block& b, Unpacked& u) {
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        const __m256i mask2 = _mm256_set1_epi8(3);
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = b.ql + 64 * half;
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * half));
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            __m256i* q = u.q + 4 * half;
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4));
        }
        for (int g = 0; g < 8; ++g) {
            u.scale[g] = _mm256_set_m128i(_mm_set1_epi16(b.scales[2 * g + 1]), _mm_set1_epi16(b.scales[2 * g]));
        }
        for (int j = 0; j < 16; ++j) u.sc[j] = b.scales[j];
        u.d = fp16(b.d);
    }
    static float dot(const Unpacked& u, const BlockQ8_K& y) {
        __m256i acc = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
            const __m256i act = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * g));
            // 16 int16 lanes of weight-pair products (levels <= 63: no saturation).
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u.q[g], act), u.scale[g]));
        }
        // Undo the +32 of the stored levels: 32 * sum of scale * (sum of the sub-block's
        // 16 activations, kept in bsums).
        int32_t offset = 0;
        for (int j = 0; j < 16; ++j) offset += u.sc[j] * y.bsums[j];
        return u.d * y.d * static_cast<float>(hsum_i32(acc) - 32 * offset);
    }
};

template <typename K>
float dot_k(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const typename K::Block*>(xv);
    const auto* y = static_cast<const BlockQ8_K*>(yv);
    typename K::Unpacked u;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; ++i) {
        K::unpack(x[i], u);
        sum += K::dot(u, y[i]);
    }
    return sum;
}

template <typename K>
void rows_k(const RowsArgs& a) noexcept {
    const int64_t nb = a.n_in / 256;
    typename K::Unpacked u;
    for (int64_t r = a.r0; r < a.r1; ++r) {
        const auto* x = reinterpret_cast<const typename K::Block*>(a.w + static_cast<size_t>(r) * a.row_bytes);
        for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kTile) {
            const int64_t nt = a.n_tokens - t0 < kTile ? a.n_tokens - t0 : kTile;
            const BlockQ8_K* y[kTile];
            float sum[kTile] = {};
            for (int64_t k = 0; k < nt; ++k) {
                y[k] = reinterpret_cast<const BlockQ8_K*>(a.xq + static_cast<size_t>(t0 + k) * a.xq_stride);
            }
            for (int64_t i = 0; i < nb; ++i) {
                K::unpack(x[i], u);
                for (int64_t k = 0; k < nt; ++k) sum[k] += K::dot(u, y[k][i]);
            }
            for (int64_t k = 0; k < nt; ++k) a.y[(t0 + k) * a.y_stride + r] = sum[k];
        }
    }
}

// ---- float rows ---------------------------------------------------------------------

template <float (*Dot)(int64_t, const void*, const void*) noexcept>
void rows_by_dot(const RowsArgs& a) noexcept {
    for (int64_t r = a.r0; r < a.r1; ++r) {
        const uint8_t* row = a.w + static_cast<size_t>(r) * a.row_bytes;
        for (int64_t t = 0; t < a.n_tokens; ++t) {
            a.y[t * a.y_stride + r] = Dot(a.n_in, row, a.xq + static_cast<size_t>(t) * a.xq_stride);
        }
    }
}

// y[i] += a * x[i].
void axpy(int64_t n, float a, const float* x, float* y) noexcept {
    const __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] += a * x[i];
}

// y[i] += a * x[i], x in fp16.
void axpy_f16(int64_t n, float a, const uint16_t* x, float* y) noexcept {
    const __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, load_f16(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] += a * fp16(x[i]);
}

// gate[i] = gelu(gate[i]) * up[i] through a table of all fp16 inputs (ggml's GELU):
// 0 at or below -10, the input at or above 10, else table[fp16(x)].
void gelu_mul(const float* table, float* gate, const float* up, int64_t n) noexcept {
    const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(gate + i);
        const __m256i h = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
        __m256 g = _mm256_i32gather_ps(table, h, 4);
        g = _mm256_blendv_ps(g, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
        g = _mm256_blendv_ps(g, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LE_OQ));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(g, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; ++i) {
        const float x = gate[i];
        const float g = x <= -10.0f ? 0.0f : x >= 10.0f ? x : table[_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)];
        gate[i] = g * up[i];
    }
}

}  // namespace

FloatKernels float_kernels() { return {dot_f32, axpy, axpy_f16, gelu_mul}; }

SimdKernels kernels_for(gguf::GgmlType type) {
    using gguf::GgmlType;
    switch (type) {
        case GgmlType::F32:
            return {dot_f32, rows_by_dot<dot_f32>};
        case GgmlType::F16:
            return {dot_f16, rows_by_dot<dot_f16>};
        case GgmlType::Q8_0:
            return {dot_legacy<Q8_0W>, rows_legacy<Q8_0W>};
        case GgmlType::Q4_0:
            return {dot_legacy<Q4_0W>, rows_legacy<Q4_0W>};
        case GgmlType::Q5_0:
            return {dot_legacy<Q5_0W>, rows_legacy<Q5_0W>};
        case GgmlType::Q4_K:
            return {dot_k<Q4K>, rows_k<Q4K>};
        case GgmlType::Q6_K:
            return {dot_k<Q6K>, rows_k<Q6K>};
        default:
            return {nullptr, nullptr};
    }
}

}  // namespace loom::kernels::LOOM_SIMD_NS

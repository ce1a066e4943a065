// The x86 SIMD kernels, compiled twice: by x86_avx2.cpp (AVX2 + FMA + F16C) and by
// x86_avx512.cpp (the same plus AVX-512 VNNI, whose dpbusd replaces maddubs + madd), each
// with its own compiler flags and namespace (LOOM_SIMD_NS), so the AVX2 build never holds
// an AVX-512 instruction. Include only from those two files; they define LOOM_SIMD_NS and
// LOOM_SIMD_VNNI first.
//
// Each weight type has a dot (one row, one activation row) and a rows kernel (rows
// [r0, r1) against n_tokens activation rows). The rows kernel unpacks each weight block
// once per tile of tokens and dots it with every token of the tile; the dot is the tile
// of one token, so for one token the rows kernel gives the dot's bits exactly, and prompt
// processing and generation give the same numbers. Integer block sums are exact; float
// sums differ from the reference only in their order (and in fused multiply-adds).
// Activation rows of Q8_K may hold -128 (the quantizer never writes it, but the format
// can); the Q8_0 / Q8_1 kernels assume [-127, 127], the quantizer's range.
// Block layouts: src/quant/q_legacy.h, k_quants.h, iq4.h, float_types.h. Rows may start
// at any byte (unaligned loads).
// Not here: the scalar references (src/quant/), dispatch (x86_dots.cpp, kernel_set.cpp).

// GCC 12 warns inside its own AVX-512 headers: the casts and mask builtins pass an
// intentionally undefined vector (_mm512_undefined_*). Silenced for these headers only
// (the state applies to the lines of the headers included below).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/x86_dots.h"
#include "quant/iq4.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"

namespace loom::kernels::LOOM_SIMD_NS {
namespace {

using quant::BlockIQ4_NL;
using quant::BlockIQ4_XS;
using quant::BlockQ2_K;
using quant::BlockQ3_K;
using quant::BlockQ4_0;
using quant::BlockQ4_1;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ5_1;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_1;
using quant::BlockQ8_K;

constexpr int64_t kTile = 8;  // tokens per pass over a quantized weight row

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Sum over pairs of u8 * i8 products into 8 int32 lanes (4 products per lane). The
// maddubs form saturates int16 pairs: callers keep 2 * |u * s| below 2^15.
inline __m256i dot_u8_i8(__m256i u, __m256i s) {
#if LOOM_SIMD_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// acc + dot_u8_i8(u, s).
inline __m256i add_dot_u8_i8(__m256i acc, __m256i u, __m256i s) {
#if LOOM_SIMD_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, dot_u8_i8(u, s));
#endif
}

// Signed 8-bit dot (x in [-127, 127] or [-16, 15], y not -128): |x| . sign(x) * y.
inline __m256i dot_i8_i8(__m256i x, __m256i y) {
    return dot_u8_i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// 16 int16 sums of adjacent products x * a, times the int16 scale of each lane, as 8
// int32: for weights x in [-127, 127] and any activation a (also -128: |a| is taken as
// unsigned, x carries the sign, so pairs stay within 2 * 128 * 127 < 2^15).
inline __m256i dot_i8_any_scaled(__m256i x, __m256i a, __m256i scale) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(x, a)), scale);
}

// The 32 nibbles of 16 bytes as bytes 0..15: low nibbles first (weights 0..15), then high.
inline __m256i nibbles(const uint8_t* qs) {
    const __m128i q = load128(qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
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

// Bit `from` of every byte moved to bit `to`, all other bits cleared (from, to < 8: the
// 16-bit shift carries nothing across bytes into the kept bit).
inline __m256i move_bit(__m256i v, int from, int to) {
    const __m256i shifted = from < to ? _mm256_slli_epi16(v, to - from) : _mm256_srli_epi16(v, from - to);
    return _mm256_and_si256(shifted, _mm256_set1_epi8(static_cast<char>(1 << to)));
}

// The 16 levels of IQ4_NL / IQ4_XS in both 128-bit halves, for a pshufb lookup.
inline __m256i iq4_values() {
    return _mm256_broadcastsi128_si256(load128(quant::kIq4nlValues));
}

// s holds 8 int16 in each 128-bit half (the same 8 in both). splat_i16: lane j in every
// lane. splat_i16_pair: lane 2p in the low half, lane 2p + 1 in the high half (the scales
// of the two 16-weight sub-blocks of a 32-byte group).
inline __m256i splat_i16(__m256i s, int j) {
    return _mm256_shuffle_epi8(s, _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * j)));
}
// Both 128-bit halves of v set to its half number `half` (0 or 1). The permute takes an
// immediate, so the two cases are spelled out (a computed one does not build at -O0).
inline __m256i broadcast_half(__m256i v, int half) {
    return half == 0 ? _mm256_permute2x128_si256(v, v, 0x00) : _mm256_permute2x128_si256(v, v, 0x11);
}
inline __m256i splat_i16_pair(__m256i s, int p) {
    return _mm256_shuffle_epi8(s, _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * p + 1))),
                                                   _mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * p)))));
}

// ---- tiles of tokens ----------------------------------------------------------------
// A kernel family K has Act (its activation element or block), kTokens (tokens per
// tile) and tile<nt>(row, n, y, out): out[k] = dot(row, y[k]) for k < nt. nt is a
// template parameter so the accumulators live in registers (a run-time count keeps them
// on the stack, and every FMA then waits on a store-to-load round trip).

// f(std::integral_constant<int, nt>{}) for a run-time nt in [1, T].
template <int T, typename F>
inline void with_tile_size(int64_t nt, F&& f) {
    if constexpr (T > 1) {
        if (nt < T) return with_tile_size<T - 1>(nt, f);
    }
    f(std::integral_constant<int, T>{});
}

template <typename K>
float dot_tiled(int64_t n, const void* x, const void* yv) noexcept {
    const typename K::Act* y[1] = {static_cast<const typename K::Act*>(yv)};
    float out;
    K::template tile<1>(x, n, y, &out);
    return out;
}

template <typename K>
void rows_tiled(const RowsArgs& a) noexcept {
    constexpr int T = K::kTokens;
    for (int64_t r = a.r0; r < a.r1; ++r) {
        const uint8_t* row = a.w + static_cast<size_t>(r) * a.row_bytes;
        for (int64_t t0 = 0; t0 < a.n_tokens; t0 += T) {
            const int64_t nt = a.n_tokens - t0 < T ? a.n_tokens - t0 : T;
            const typename K::Act* y[T];
            float out[T];
            for (int64_t k = 0; k < nt; ++k) {
                y[k] = reinterpret_cast<const typename K::Act*>(a.xq + static_cast<size_t>(t0 + k) * a.xq_stride);
            }
            with_tile_size<T>(nt, [&](auto size) { K::template tile<decltype(size)::value>(row, a.n_in, y, out); });
            for (int64_t k = 0; k < nt; ++k) a.y[(t0 + k) * a.y_stride + r] = out[k];
        }
    }
}

// ---- F32, F16, BF16 -----------------------------------------------------------------

// The float types: an element type E (T; load16: 16 elements as two vectors of fp32, in
// an order of E's choosing, the same for weights and activations; load8: 8 elements;
// one: one element). The conversions are exact, so each product is the reference's fp32
// product, rounded once in the FMA. AVX-512 BF16's vdpbf16ps is not used: its products
// and sums round differently from the reference's fp32 products.
struct F32E {
    using T = float;
    static void load16(const float* p, __m256& lo, __m256& hi) {
        lo = _mm256_loadu_ps(p);
        hi = _mm256_loadu_ps(p + 8);
    }
    static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
    static float one(float v) { return v; }
};
struct F16E {
    using T = uint16_t;
    static void load16(const uint16_t* p, __m256& lo, __m256& hi) {
        lo = load8(p);
        hi = load8(p + 8);
    }
    static __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(load128(p)); }
    static float one(uint16_t h) { return fp16(h); }
};
struct BF16E {
    using T = uint16_t;
    // bf16 is the top half of an fp32: interleave with zeros (elements 0-3 and 8-11 in
    // lo, 4-7 and 12-15 in hi).
    static void load16(const uint16_t* p, __m256& lo, __m256& hi) {
        const __m256i v = load256(p);
        lo = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), v));
        hi = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), v));
    }
    static __m256 load8(const uint16_t* p) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
    }
    static float one(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }
};

// Float rows against up to 4 activation rows of the same type: two accumulators per token
// over 16 elements, then 8, then a scalar tail.
template <typename E>
struct FloatRows {
    using Act = typename E::T;
    static constexpr int kTokens = 4;  // 8 accumulators: half of AVX2's 16 registers
    template <int nt>
    static void tile(const void* xv, int64_t n, const Act* const* y, float* out) noexcept {
        const auto* x = static_cast<const Act*>(xv);
        __m256 acc0[nt], acc1[nt];
        #pragma GCC unroll 4
        for (int k = 0; k < nt; ++k) acc0[k] = acc1[k] = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            __m256 x0, x1;
            E::load16(x + i, x0, x1);
            #pragma GCC unroll 4
            for (int k = 0; k < nt; ++k) {
                __m256 y0, y1;
                E::load16(y[k] + i, y0, y1);
                acc0[k] = _mm256_fmadd_ps(x0, y0, acc0[k]);
                acc1[k] = _mm256_fmadd_ps(x1, y1, acc1[k]);
            }
        }
        if (i + 8 <= n) {
            const __m256 x0 = E::load8(x + i);
            #pragma GCC unroll 4
            for (int k = 0; k < nt; ++k) acc0[k] = _mm256_fmadd_ps(x0, E::load8(y[k] + i), acc0[k]);
            i += 8;
        }
        #pragma GCC unroll 4
        for (int k = 0; k < nt; ++k) {
            float sum = hsum(_mm256_add_ps(acc0[k], acc1[k]));
            for (int64_t j = i; j < n; ++j) sum += E::one(x[j]) * E::one(y[k][j]);
            out[k] = sum;
        }
    }
};

// ---- legacy 32-weight blocks against Q8_0 / Q8_1 ------------------------------------

// A weight block type of 32 weights with an fp16 scale d: Block, its partner Act, and
// unpack to 32 levels as bytes. kMin: the levels are unsigned (0..31) and the block has
// a min m, dotted with the partner's s = d * sum(qs) (Q4_1, Q5_1, against Q8_1);
// otherwise the levels are signed int8 (against Q8_0).
struct Q8_0W {
    using Block = BlockQ8_0;
    using Act = BlockQ8_0;
    static constexpr bool kMin = false;
    static __m256i unpack(const Block& b) { return load256(b.qs); }
};
struct Q4_0W {
    using Block = BlockQ4_0;
    using Act = BlockQ8_0;
    static constexpr bool kMin = false;
    static __m256i unpack(const Block& b) { return _mm256_sub_epi8(nibbles(b.qs), _mm256_set1_epi8(8)); }
};
struct Q5_0W {
    using Block = BlockQ5_0;
    using Act = BlockQ8_0;
    static constexpr bool kMin = false;
    // Nibble plus 16 * (5th bit) minus 16: where the bit is clear, set the high nibble
    // (nibble - 16 as int8); where it is set, the nibble itself.
    static __m256i unpack(const Block& b) {
        const __m256i high = _mm256_andnot_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(static_cast<char>(0xf0)));
        return _mm256_or_si256(nibbles(b.qs), high);
    }
};
struct IQ4_NLW {
    using Block = BlockIQ4_NL;
    using Act = BlockQ8_0;
    static constexpr bool kMin = false;
    static __m256i unpack(const Block& b) { return _mm256_shuffle_epi8(iq4_values(), nibbles(b.qs)); }
};
struct Q4_1W {
    using Block = BlockQ4_1;
    using Act = BlockQ8_1;
    static constexpr bool kMin = true;
    static __m256i unpack(const Block& b) { return nibbles(b.qs); }
};
struct Q5_1W {
    using Block = BlockQ5_1;
    using Act = BlockQ8_1;
    static constexpr bool kMin = true;
    static __m256i unpack(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(0x10)));
    }
};

// Integer dot of 32 levels with 32 activations, in 8 int32 lanes.
template <typename W>
inline __m256i block_dot(__m256i qx, __m256i qy) {
    if constexpr (W::kMin) {
        return dot_u8_i8(qx, qy);
    } else {
        return dot_i8_i8(qx, qy);
    }
}

// The dots of one legacy-type row with nt activation rows: per block d_x * d_y * (integer
// dot), plus m_x * s_y for the kMin types (summed in a scalar per token). The AVX-512
// level takes two blocks per 512-bit step.
template <typename W>
struct Legacy {
    using Act = typename W::Act;
    static constexpr int kTokens = kTile;
    template <int nt>
    static void tile(const void* xv, int64_t n, const Act* const* y, float* out) noexcept {
        const auto* x = static_cast<const typename W::Block*>(xv);
        const int64_t nb = n / 32;
        int64_t i = 0;
        float mins[nt] = {};
#if LOOM_SIMD_VNNI
        __m512 acc2[nt];
        #pragma GCC unroll 8
        for (int k = 0; k < nt; ++k) acc2[k] = _mm512_setzero_ps();
        for (; i + 2 <= nb; i += 2) {
            const __m512i qx = _mm512_inserti64x4(_mm512_castsi256_si512(W::unpack(x[i])), W::unpack(x[i + 1]), 1);
            // Signed levels: |x| against sign(x) * y.
            const __m512i ux = W::kMin ? qx : _mm512_abs_epi8(qx);
            const __mmask64 neg = W::kMin ? 0 : _mm512_movepi8_mask(qx);
            const float dx0 = fp16(x[i].d), dx1 = fp16(x[i + 1].d);
            #pragma GCC unroll 8
            for (int k = 0; k < nt; ++k) {
                const __m512i qy = _mm512_inserti64x4(_mm512_castsi256_si512(load256(y[k][i].qs)),
                                                      load256(y[k][i + 1].qs), 1);
                __m512i sy = qy;
                if constexpr (!W::kMin) sy = _mm512_mask_sub_epi8(qy, neg, _mm512_setzero_si512(), qy);
                const __m512i dp = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ux, sy);
                const __m256 d0 = _mm256_set1_ps(dx0 * fp16(y[k][i].d));
                const __m256 d1 = _mm256_set1_ps(dx1 * fp16(y[k][i + 1].d));
                const __m512 d = _mm512_castpd_ps(
                    _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(d0)), _mm256_castps_pd(d1), 1));
                acc2[k] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dp), acc2[k]);
                if constexpr (W::kMin) {
                    mins[k] += fp16(x[i].m) * fp16(y[k][i].s);
                    mins[k] += fp16(x[i + 1].m) * fp16(y[k][i + 1].s);
                }
            }
        }
#endif
        __m256 acc[nt];
        #pragma GCC unroll 8
        for (int k = 0; k < nt; ++k) acc[k] = _mm256_setzero_ps();
        for (; i < nb; ++i) {
            const __m256i qx = W::unpack(x[i]);
            const float dx = fp16(x[i].d);
            #pragma GCC unroll 8
            for (int k = 0; k < nt; ++k) {
                const __m256 d = _mm256_set1_ps(dx * fp16(y[k][i].d));
                acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(block_dot<W>(qx, load256(y[k][i].qs))), acc[k]);
                if constexpr (W::kMin) mins[k] += fp16(x[i].m) * fp16(y[k][i].s);
            }
        }
        #pragma GCC unroll 8
        for (int k = 0; k < nt; ++k) {
#if LOOM_SIMD_VNNI
            out[k] = _mm512_reduce_add_ps(acc2[k]) + hsum(acc[k]);
#else
            out[k] = hsum(acc[k]);
#endif
            if constexpr (W::kMin) out[k] += mins[k];
        }
    }
};

// ---- k-quants against Q8_K ----------------------------------------------------------

// The k-quant families below accumulate each super-block into 8 float lanes per token
// (the integer sums of a block are exact in int32 lanes, then scaled once by the block's
// d * y.d), summed across lanes once per row.

// Q4_K / Q5_K scales and mins (get_scale_min_k4's packing) as 16 bytes: the 8 6-bit
// scales, then the 8 mins (ggml's kmask unpacking).
inline __m128i scales_mins_k4(const uint8_t* packed) {
    uint32_t u[4] = {};
    std::memcpy(u, packed, 12);
    constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
    u[3] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
    const uint32_t mins_low = u[1] & kLow6;
    u[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
    u[2] = mins_low;
    u[0] &= kLow6;
    return _mm_set_epi32(static_cast<int>(u[3]), static_cast<int>(u[2]), static_cast<int>(u[1]),
                         static_cast<int>(u[0]));
}

// Q4_K / Q5_K super-block, unpacked: 8 sub-blocks of 32 levels (0..15, or 0..31 with
// Q5_K's fifth bit from qh) with their 6-bit scales in every int16 lane, the mins paired
// with the 16 bsums, the fp16 super-scales.
template <typename B, bool kFifthBit>
struct Q45K {
    using Block = B;
    struct Unpacked {
        __m256i q[8];
        __m256i scale[8];
        __m256i mins;  // int16 lane j: min of sub-block j / 2
        float d, dmin;
    };
    static __m256i fifth_bits(const Block& b) {
        if constexpr (kFifthBit) {
            return load256(b.qh);
        } else {
            return _mm256_setzero_si256();
        }
    }
    static void unpack(const Block& b, Unpacked& u) {
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        const __m256i qh = fifth_bits(b);
        #pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(b.qs + 32 * c);
            u.q[2 * c] = _mm256_and_si256(q, low4);
            u.q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if constexpr (kFifthBit) {
                u.q[2 * c] = _mm256_or_si256(u.q[2 * c], move_bit(qh, 2 * c, 4));
                u.q[2 * c + 1] = _mm256_or_si256(u.q[2 * c + 1], move_bit(qh, 2 * c + 1, 4));
            }
        }
        const __m128i sm = scales_mins_k4(b.scales);
        const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        #pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) u.scale[j] = splat_i16(scales, j);
        u.mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
        u.d = fp16(b.d);
        u.dmin = fp16(b.dmin);
    }
    static void accumulate(const Unpacked& u, const BlockQ8_K& y, __m256& acc) {
        __m256i sum = _mm256_setzero_si256();
        #pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
            // Pairs of levels <= 31 times activations: at most 2 * 31 * 128 < 2^15.
            const __m256i p = _mm256_maddubs_epi16(u.q[j], load256(y.qs + 32 * j));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, u.scale[j]));
        }
        const __m256i mins = _mm256_madd_epi16(load256(y.bsums), u.mins);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y.d * u.d), _mm256_cvtepi32_ps(sum), acc);
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(y.d * u.dmin), _mm256_cvtepi32_ps(mins), acc);
    }
};
using Q4K = Q45K<BlockQ4_K, false>;
using Q5K = Q45K<BlockQ5_K, true>;

// Shared by Q6_K and Q3_K, whose levels are stored with an offset: acc += d * y.d *
// (sum over 8 groups of 32 of scale * (level . activation) - bsums . offset_scale), where
// offset_scale holds offset * scale per 16-activation sub-block (undoing the offset).
inline void accumulate_offset_levels(const __m256i* q, const __m256i* scale, __m256i offset_scale, float d,
                                     const BlockQ8_K& y, __m256& acc) {
    __m256i sum = _mm256_setzero_si256();
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
        const __m256i p = _mm256_maddubs_epi16(q[g], load256(y.qs + 32 * g));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scale[g]));
    }
    sum = _mm256_sub_epi32(sum, _mm256_madd_epi16(load256(y.bsums), offset_scale));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y.d * d), _mm256_cvtepi32_ps(sum), acc);
}

// Q6_K super-block, unpacked: 8 groups of 32 levels stored with +32 (0..63), the int8
// scales of their two 16-weight sub-blocks as int16 pairs, 32 * each scale paired with
// the 16 bsums (to undo the +32), the fp16 super-scale.
struct Q6K {
    using Block = BlockQ6_K;
    struct Unpacked {
        __m256i q[8];
        __m256i scale[8];
        __m256i scale32;
        float d;
    };
    static void unpack(const Block& b, Unpacked& u) {
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        const __m256i mask2 = _mm256_set1_epi8(3);
        const __m256i scales = _mm256_cvtepi8_epi16(load128(b.scales));
        u.scale32 = _mm256_slli_epi16(scales, 5);
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = b.ql + 64 * half;
            const __m256i qh = load256(b.qh + 32 * half);
            const __m256i l0 = load256(ql);
            const __m256i l1 = load256(ql + 32);
            __m256i* q = u.q + 4 * half;
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4));
            const __m256i s = broadcast_half(scales, half);
            #pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) u.scale[4 * half + j] = splat_i16_pair(s, j);
        }
        u.d = fp16(b.d);
    }
    static void accumulate(const Unpacked& u, const BlockQ8_K& y, __m256& acc) {
        // Levels <= 63: pairs of products stay below 2 * 63 * 128 < 2^15.
        accumulate_offset_levels(u.q, u.scale, u.scale32, u.d, y, acc);
    }
};

// Q2_K super-block, unpacked: 8 groups of 32 levels (0..3) already multiplied by their
// 4-bit sub-block scale (at most 45: still unsigned bytes), the mins paired with the 16
// bsums, the fp16 super-scales.
struct Q2K {
    using Block = BlockQ2_K;
    struct Unpacked {
        __m256i q[8];
        __m256i mins;  // int16 lane j: min of sub-block j
        float d, dmin;
    };
    static void unpack(const Block& b, Unpacked& u) {
        const __m128i packed = load128(b.scales);
        const __m128i low4 = _mm_set1_epi8(0x0f);
        const __m256i scales = _mm256_cvtepu8_epi16(_mm_and_si128(packed, low4));
        u.mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
        const __m256i mask2 = _mm256_set1_epi8(3);
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(b.qs + 32 * half);
            // Scales 8 * half .. 8 * half + 7 in both 128-bit halves.
            const __m256i s = broadcast_half(scales, half);
            #pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                // Two levels per int16 lane, both of one sub-block: level * scale <= 45
                // stays in its byte.
                const __m256i level = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), mask2);
                u.q[4 * half + j] = _mm256_mullo_epi16(level, splat_i16_pair(s, j));
            }
        }
        u.d = fp16(b.d);
        u.dmin = fp16(b.dmin);
    }
    static void accumulate(const Unpacked& u, const BlockQ8_K& y, __m256& acc) {
        __m256i sum = _mm256_setzero_si256();
        #pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) sum = add_dot_u8_i8(sum, u.q[g], load256(y.qs + 32 * g));
        const __m256i mins = _mm256_madd_epi16(load256(y.bsums), u.mins);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y.d * u.d), _mm256_cvtepi32_ps(sum), acc);
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(y.d * u.dmin), _mm256_cvtepi32_ps(mins), acc);
    }
};

// Q3_K super-block, unpacked: 8 groups of 32 levels stored with +4 (0..7), the signed
// 6-bit scales (-32..31) of their two 16-weight sub-blocks as int16 pairs, 4 * each scale
// paired with the 16 bsums (to undo the +4), the fp16 super-scale.
struct Q3K {
    using Block = BlockQ3_K;
    struct Unpacked {
        __m256i q[8];
        __m256i scale[8];
        __m256i scale4;
        float d;
    };
    static void unpack(const Block& b, Unpacked& u) {
        // The 16 6-bit scales (q3_K_scale's packing, ggml's kmask unpacking).
        uint32_t a[3];
        std::memcpy(a, b.scales, 12);
        constexpr uint32_t kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
        const __m128i packed = _mm_set_epi32(static_cast<int>(((a[1] >> 4) & kLow4) | (((a[2] >> 6) & kLow2) << 4)),
                                             static_cast<int>(((a[0] >> 4) & kLow4) | (((a[2] >> 4) & kLow2) << 4)),
                                             static_cast<int>((a[1] & kLow4) | (((a[2] >> 2) & kLow2) << 4)),
                                             static_cast<int>((a[0] & kLow4) | ((a[2] & kLow2) << 4)));
        const __m256i scales = _mm256_cvtepi8_epi16(_mm_sub_epi8(packed, _mm_set1_epi8(32)));
        u.scale4 = _mm256_slli_epi16(scales, 2);
        const __m256i hmask = load256(b.hmask);
        const __m256i mask2 = _mm256_set1_epi8(3);
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(b.qs + 32 * half);
            const __m256i s = broadcast_half(scales, half);
            #pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const int g = 4 * half + j;
                // Low 2 bits, plus 4 where the hmask bit of the group is set.
                const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), mask2);
                u.q[g] = _mm256_or_si256(low, move_bit(hmask, g, 2));
                u.scale[g] = splat_i16_pair(s, j);
            }
        }
        u.d = fp16(b.d);
    }
    static void accumulate(const Unpacked& u, const BlockQ8_K& y, __m256& acc) {
        // Levels <= 7: pairs of products stay below 2 * 7 * 128.
        accumulate_offset_levels(u.q, u.scale, u.scale4, u.d, y, acc);
    }
};

// IQ4_XS super-block, unpacked: 8 sub-blocks of 32 levels (kIq4nlValues, int8), their
// scales (6-bit minus 32) in every int16 lane, the fp16 super-scale.
struct IQ4XS {
    using Block = BlockIQ4_XS;
    struct Unpacked {
        __m256i q[8];
        __m256i scale[8];
        float d;
    };
    static void unpack(const Block& b, Unpacked& u) {
        const __m256i values = iq4_values();
        #pragma GCC unroll 8
        for (int ib = 0; ib < 8; ++ib) u.q[ib] = _mm256_shuffle_epi8(values, nibbles(b.qs + 16 * ib));
        // Scale of sub-block ib in int16 lane ib: the low nibble of scales_l byte ib / 2
        // (ib even) or its high nibble (ib odd, through a multiply by 16 before the shift),
        // and bits 2 ib, 2 ib + 1 of scales_h (moved to bits 14, 15 by a multiply).
        uint32_t packed_low;
        std::memcpy(&packed_low, b.scales_l, 4);
        const __m128i byte_of_lane = _mm_set_epi8(-1, 3, -1, 3, -1, 2, -1, 2, -1, 1, -1, 1, -1, 0, -1, 0);
        const __m128i low_bytes = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(packed_low)), byte_of_lane);
        const __m128i nibble_up = _mm_mullo_epi16(low_bytes, _mm_set_epi16(1, 16, 1, 16, 1, 16, 1, 16));
        const __m128i low = _mm_and_si128(_mm_srli_epi16(nibble_up, 4), _mm_set1_epi16(0x0f));
        const __m128i bits_up = _mm_mullo_epi16(_mm_set1_epi16(static_cast<short>(b.scales_h)),
                                                _mm_set_epi16(1, 4, 16, 64, 256, 1024, 4096, 16384));
        const __m128i high = _mm_srli_epi16(bits_up, 14);
        const __m128i ls = _mm_sub_epi16(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi16(32));
        const __m256i scales = _mm256_broadcastsi128_si256(ls);
        #pragma GCC unroll 8
        for (int ib = 0; ib < 8; ++ib) u.scale[ib] = splat_i16(scales, ib);
        u.d = fp16(b.d);
    }
    static void accumulate(const Unpacked& u, const BlockQ8_K& y, __m256& acc) {
        __m256i sum = _mm256_setzero_si256();
        #pragma GCC unroll 8
        for (int ib = 0; ib < 8; ++ib) {
            sum = _mm256_add_epi32(sum, dot_i8_any_scaled(u.q[ib], load256(y.qs + 32 * ib), u.scale[ib]));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * y.d), _mm256_cvtepi32_ps(sum), acc);
    }
};

template <typename K>
struct KQuant {
    using Act = BlockQ8_K;
    static constexpr int kTokens = kTile;
    template <int nt>
    static void tile(const void* xv, int64_t n, const BlockQ8_K* const* y, float* out) noexcept {
        const auto* x = static_cast<const typename K::Block*>(xv);
        __m256 acc[nt];
        #pragma GCC unroll 8
        for (int k = 0; k < nt; ++k) acc[k] = _mm256_setzero_ps();
        typename K::Unpacked u;
        for (int64_t i = 0; i < n / 256; ++i) {
            K::unpack(x[i], u);
            #pragma GCC unroll 8
            for (int k = 0; k < nt; ++k) K::accumulate(u, y[k][i], acc[k]);
        }
        #pragma GCC unroll 8
        for (int k = 0; k < nt; ++k) out[k] = hsum(acc[k]);
    }
};

// ---- float helpers of the attention and feed-forward --------------------------------

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
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, F16E::load8(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] += a * fp16(x[i]);
}

// out[i] = x[i] (fp16 to fp32, exact).
void f16_to_f32(int64_t n, const uint16_t* x, float* out) noexcept {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, F16E::load8(x + i));
    for (; i < n; ++i) out[i] = fp16(x[i]);
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

template <typename K>
constexpr SimdKernels tiled() {
    return {dot_tiled<K>, rows_tiled<K>};
}

}  // namespace

FloatKernels float_kernels() { return {dot_tiled<FloatRows<F32E>>, axpy, axpy_f16, f16_to_f32, gelu_mul}; }

SimdKernels kernels_for(gguf::GgmlType type) {
    using gguf::GgmlType;
    switch (type) {
        case GgmlType::F32:
            return tiled<FloatRows<F32E>>();
        case GgmlType::F16:
            return tiled<FloatRows<F16E>>();
        case GgmlType::BF16:
            return tiled<FloatRows<BF16E>>();
        case GgmlType::Q8_0:
            return tiled<Legacy<Q8_0W>>();
        case GgmlType::Q4_0:
            return tiled<Legacy<Q4_0W>>();
        case GgmlType::Q5_0:
            return tiled<Legacy<Q5_0W>>();
        case GgmlType::IQ4_NL:
            return tiled<Legacy<IQ4_NLW>>();
        case GgmlType::Q4_1:
            return tiled<Legacy<Q4_1W>>();
        case GgmlType::Q5_1:
            return tiled<Legacy<Q5_1W>>();
        case GgmlType::Q2_K:
            return tiled<KQuant<Q2K>>();
        case GgmlType::Q3_K:
            return tiled<KQuant<Q3K>>();
        case GgmlType::Q4_K:
            return tiled<KQuant<Q4K>>();
        case GgmlType::Q5_K:
            return tiled<KQuant<Q5K>>();
        case GgmlType::Q6_K:
            return tiled<KQuant<Q6K>>();
        case GgmlType::IQ4_XS:
            return tiled<KQuant<IQ4XS>>();
        default:
            return {nullptr, nullptr};
    }
}

}  // namespace loom::kernels::LOOM_SIMD_NS

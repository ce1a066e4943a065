// AVX2 / AVX-512 VNNI dot products for F32, F16, Q8_0, Q4_0, Q5_0 (against Q8_0 or F16
// activations) and Q4_K, Q6_K (against Q8_K). Each kernel walks the blocks of the row
// in place (unaligned loads; a row may start anywhere in the mapped file), computes the
// integer block dot with maddubs/madd (AVX2) or dpbusd (VNNI) and accumulates
// scale * dot in 8 float lanes. Block layouts: src/quant/q_legacy.h, k_quants.h.
#include "kernels/x86_dots.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstring>

#include "quant/k_quants.h"
#include "quant/q_legacy.h"

#define LOOM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define LOOM_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))

namespace loom::kernels {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_K;

LOOM_AVX2 inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

LOOM_AVX2 inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

LOOM_AVX2 inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

// Sum over pairs of u8 * i8 products into 8 int32 lanes (4 products per lane).
template <bool kVnni>
LOOM_VNNI inline __m256i dot_u8_i8(__m256i u, __m256i s) {
    if constexpr (kVnni) {
        return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
    } else {
        return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
    }
}

// Signed 8-bit dot (x in [-127, 127] or [-16, 15]): |x| . sign(x) * y.
template <bool kVnni>
LOOM_VNNI inline __m256i dot_i8_i8(__m256i x, __m256i y) {
    return dot_u8_i8<kVnni>(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// 32 weights of a Q4_0 block as int8 in [-8, 7]: low nibbles are weights 0..15.
LOOM_AVX2 inline __m256i unpack_q4_0(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
}

// 0xFF in byte j where bit j of the 32-bit little-endian word is set.
LOOM_AVX2 inline __m256i bits_to_bytes(const uint8_t* bits) {
    uint32_t word;
    std::memcpy(&word, bits, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(word)),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// ---- F32, F16 -----------------------------------------------------------------------

LOOM_AVX2 float dot_f32(int64_t n, const void* xv, const void* yv) noexcept {
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

LOOM_AVX2 inline __m256 load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

LOOM_AVX2 float dot_f16(int64_t n, const void* xv, const void* yv) noexcept {
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

template <bool kVnni>
LOOM_VNNI float dot_q8_0(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const BlockQ8_0*>(xv);
    const auto* y = static_cast<const BlockQ8_0*>(yv);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; ++i) {
        const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        const __m256 d = _mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i8<kVnni>(qx, qy)), acc);
    }
    return hsum(acc);
}

template <bool kVnni>
LOOM_VNNI float dot_q4_0(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const BlockQ4_0*>(xv);
    const auto* y = static_cast<const BlockQ8_0*>(yv);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; ++i) {
        const __m256i qx = unpack_q4_0(x[i].qs);
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        const __m256 d = _mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i8<kVnni>(qx, qy)), acc);
    }
    return hsum(acc);
}

template <bool kVnni>
LOOM_VNNI float dot_q5_0(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const BlockQ5_0*>(xv);
    const auto* y = static_cast<const BlockQ8_0*>(yv);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; ++i) {
        // Nibble plus 16 * (5th bit) minus 16: where the bit is clear, set the high nibble
        // (nibble - 16 as int8); where set, the nibble itself.
        const __m256i nib = _mm256_add_epi8(unpack_q4_0(x[i].qs), _mm256_set1_epi8(8));
        const __m256i high = _mm256_andnot_si256(bits_to_bytes(x[i].qh), _mm256_set1_epi8(static_cast<char>(0xf0)));
        const __m256i qx = _mm256_or_si256(nib, high);
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        const __m256 d = _mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i8<kVnni>(qx, qy)), acc);
    }
    return hsum(acc);
}

// ---- k-quants against Q8_K ----------------------------------------------------------

template <bool kVnni>
LOOM_VNNI float dot_q4_K(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const BlockQ4_K*>(xv);
    const auto* y = static_cast<const BlockQ8_K*>(yv);
    float sum = 0.0f;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < n / 256; ++i) {
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; ++j) quant::get_scale_min_k4(j, x[i].scales, sc[j], mn[j]);
        int32_t mins = 0;
        for (int j = 0; j < 8; ++j) mins += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        __m256i acc = _mm256_setzero_si256();
        for (int k = 0; k < 4; ++k) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * k));
            const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * k));
            const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * k + 32));
            const __m256i p0 = dot_u8_i8<kVnni>(_mm256_and_si256(q, low4), y0);
            const __m256i p1 = dot_u8_i8<kVnni>(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), y1);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p0, _mm256_set1_epi32(sc[2 * k])));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p1, _mm256_set1_epi32(sc[2 * k + 1])));
        }
        const float d = y[i].d * fp16(x[i].d);
        const float dmin = y[i].d * fp16(x[i].dmin);
        sum += d * static_cast<float>(hsum_i32(acc)) - dmin * static_cast<float>(mins);
    }
    return sum;
}

template <bool kVnni>
LOOM_VNNI float dot_q6_K(int64_t n, const void* xv, const void* yv) noexcept {
    const auto* x = static_cast<const BlockQ6_K*>(xv);
    const auto* y = static_cast<const BlockQ8_K*>(yv);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i mask2 = _mm256_set1_epi8(3);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; ++i) {
        __m256i acc = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = x[i].ql + 64 * half;
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * half));
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, low4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4)),
            };
            for (int g = 0; g < 4; ++g) {
                const __m256i act =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 128 * half + 32 * g));
                // 16 int16 lanes: products of weights 0..15 (low lane half), 16..31 (high).
                const __m256i p16 = _mm256_maddubs_epi16(q[g], act);
                const int8_t* s = x[i].scales + 8 * half + 2 * g;
                const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(s[1]), _mm_set1_epi16(s[0]));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p16, scale));
            }
        }
        // The stored levels are q + 32: subtract 32 * sum over sub-blocks of
        // scale * (sum of its 16 activations), which Q8_K keeps in bsums.
        int32_t offset = 0;
        for (int j = 0; j < 16; ++j) offset += x[i].scales[j] * y[i].bsums[j];
        sum += fp16(x[i].d) * y[i].d * static_cast<float>(hsum_i32(acc) - 32 * offset);
    }
    return sum;
}

}  // namespace

quant::VecDotFn x86_vec_dot(gguf::GgmlType type, Isa isa) {
    using gguf::GgmlType;
    const bool vnni = isa == Isa::Avx512Vnni;
    if (isa == Isa::Scalar) return nullptr;
    switch (type) {
        case GgmlType::F32:
            return dot_f32;
        case GgmlType::F16:
            return dot_f16;
        case GgmlType::Q8_0:
            return vnni ? dot_q8_0<true> : dot_q8_0<false>;
        case GgmlType::Q4_0:
            return vnni ? dot_q4_0<true> : dot_q4_0<false>;
        case GgmlType::Q5_0:
            return vnni ? dot_q5_0<true> : dot_q5_0<false>;
        case GgmlType::Q4_K:
            return vnni ? dot_q4_K<true> : dot_q4_K<false>;
        case GgmlType::Q6_K:
            return vnni ? dot_q6_K<true> : dot_q6_K<false>;
        default:
            return nullptr;
    }
}

}  // namespace loom::kernels

#else  // not x86-64: no SIMD kernels, the reference runs everywhere.

namespace loom::kernels {
quant::VecDotFn x86_vec_dot(gguf::GgmlType, Isa) { return nullptr; }
}  // namespace loom::kernels

#endif

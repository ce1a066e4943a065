// The matrix product of many tokens (prompt processing) at the AVX-512 VNNI level, for
// the quantized weight types and F16 / BF16: the GemmKernels of x86_dots.h, plus SIMD
// activation conversion bit for bit the reference's. This file is compiled with the
// AVX-512 VNNI flags and only called where the CPU has them (KernelSet).
//
// Layout. Activations (the dot partner's rows) are packed in groups of 16 tokens: per
// block, step s of 4 inputs holds those 4 int8 inputs of each of the 16 tokens side by
// side (64 bytes, token-major), then per-token floats and sums. Weight rows are unpacked,
// 16 rows and 1024 inputs at a time (a panel on the stack: nothing is repacked or kept,
// resident memory does not grow), into unsigned levels (a level plus a constant c, so
// every level is a byte 0..255) with their scales. One vpdpbusd then takes 4 levels of
// one row, broadcast, against the 16 tokens' 4 inputs: 16 token sums of one row per
// instruction; a tile of 4 rows x 32 tokens keeps 8 such accumulators. The constant c
// comes back out through the tokens' input sums (sum (q + c) a = sum q a + c sum a), so
// the integer block sums are exactly the reference's; the float scaling and summation
// run in another order than the dot's. F16 / BF16: the same tiles with fp32 FMAs.
// Not here: a product of few tokens (the rows kernels), F32 weights (FloatRows).
// ik_llama.cpp's repacked GEMMs do the same with the roles of rows and tokens exchanged.

// GCC 12 warns inside its own AVX-512 headers (see x86_simd_impl.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/x86_dots.h"
#include "quant/iq4.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"

namespace loom::kernels::avx512vnni {
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

constexpr int kLanes = 16;       // tokens per packed group: the int32 lanes of a zmm
// The tile and chunk sizes: bench/bench_matmul (2048 x 8192, 64 tokens, one thread) on
// the AMD EPYC (Zen 4) of docs/BENCHMARKS.md: 4 rows x 2 groups 119-150 GMAC/s, 2 x 4
// 111-128, 3 x 2 102-111; chunks of 256 inputs within +-4% of 1024.
constexpr int kRows = 4;         // weight rows per register tile
constexpr int kGroups = 2;       // groups of 16 tokens per register tile
constexpr int kPanelRows = 16;   // rows unpacked together: one 64-byte output line per token
constexpr int64_t kChunk = 1024; // inputs of a row unpacked at a time (16 KiB of levels)

inline float fp16(uint16_t h) { return _cvtsh_ss(h); }
// fp32 to fp16, rounding to nearest even (as quant::fp32_to_fp16).
inline uint16_t to_fp16(float f) {
    return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
inline uint32_t load_u32(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline void store256(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
inline int32_t pair16(int lo, int hi) {
    return static_cast<int32_t>((static_cast<uint32_t>(lo) & 0xffffu) | (static_cast<uint32_t>(hi) << 16));
}

// f(std::integral_constant<int, n>{}) for a run-time n in [1, T].
template <int T, typename F>
inline void with_count(int64_t n, F&& f) {
    if constexpr (T > 1) {
        if (n < T) return with_count<T - 1>(n, f);
    }
    f(std::integral_constant<int, T>{});
}

// The 32 nibbles of 16 bytes as bytes 0..15: low nibbles first (weights 0..15), then high.
inline __m256i nibbles(const uint8_t* qs) {
    const __m128i q = load128(qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
}

// 0xFF in byte j where bit j of the 32-bit little-endian word is set.
inline __m256i bits_to_bytes(const uint8_t* bits) {
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(load_u32(bits))),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// IQ4_NL's 16 levels plus 128 (all in 1..241), in both 128-bit halves for a pshufb lookup.
inline __m256i iq4_values_u8() {
    return _mm256_xor_si256(_mm256_broadcastsi128_si256(load128(quant::kIq4nlValues)),
                            _mm256_set1_epi8(static_cast<char>(0x80)));
}

// ---- activation conversion ------------------------------------------------------------
// Bit for bit the reference quantizers (src/quant/: quantize_row_q8_0, _q8_1, _q8_K): the
// same fp32 operations in the same order where order matters (max and the first index of
// the largest magnitude are order-free), std::round's ties away from zero and
// nearest_int's ties to even.

// std::round of each lane (|v| < 2^23): the truncation, one further from zero where the
// dropped fraction is at least one half (v - trunc(v) is exact).
inline __m512 round_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
    const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
    const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_set1_ps(1.0f)), sign));
    return _mm512_mask_add_ps(t, up, t, one);
}

template <bool kQ8_1>
void quantize_q8_0_or_1(const float* x, int64_t n, uint8_t* out) noexcept {
    for (int64_t i = 0; i < n / 32; ++i, x += 32) {
        float amax = 0.0f;
        for (int h = 0; h < 2; ++h) {
            const __m512 a = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * h)), _mm512_set1_ps(amax));
            amax = _mm512_reduce_max_ps(a);
        }
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = to_fp16(d);
        const __m512i q0 = _mm512_cvtps_epi32(round_away(_mm512_mul_ps(_mm512_loadu_ps(x), _mm512_set1_ps(id))));
        const __m512i q1 = _mm512_cvtps_epi32(round_away(_mm512_mul_ps(_mm512_loadu_ps(x + 16), _mm512_set1_ps(id))));
        uint8_t* block = out + static_cast<size_t>(i) * (kQ8_1 ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0));
        std::memcpy(block, &dh, 2);
        uint8_t* qs = block + (kQ8_1 ? 4 : 2);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(q1));
        if constexpr (kQ8_1) {
            const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            const uint16_t sh = to_fp16(static_cast<float>(sum) * d);
            std::memcpy(block + 2, &sh, 2);
        }
    }
}

void quantize_q8_K(const float* x, int64_t n, uint8_t* out) noexcept {
    for (int64_t i = 0; i < n / 256; ++i, x += 256) {
        __m512 m = _mm512_setzero_ps();
        for (int c = 0; c < 16; ++c) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * c)), m);
        const float amax = _mm512_reduce_max_ps(m);
        BlockQ8_K b{};
        if (amax == 0.0f) {
            std::memcpy(out + static_cast<size_t>(i) * sizeof b, &b, sizeof b);
            continue;
        }
        // The first element of largest magnitude gives the sign, as in the reference.
        float max = 0.0f;
        for (int c = 0; c < 16; ++c) {
            const __mmask16 hit =
                _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * c)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit != 0) {
                max = x[16 * c + __builtin_ctz(hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        for (int c = 0; c < 16; ++c) {
            const __m512 v = _mm512_mul_ps(_mm512_set1_ps(iscale), _mm512_loadu_ps(x + 16 * c));
            __m512i q = _mm512_cvtps_epi32(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(b.qs + 16 * c), _mm512_cvtepi32_epi8(q));
            b.bsums[c] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
        }
        b.d = 1 / iscale;
        std::memcpy(out + static_cast<size_t>(i) * sizeof b, &b, sizeof b);
    }
}

// ---- packed activations ---------------------------------------------------------------

// Legacy blocks (32 inputs, against Q8_0 / Q8_1): 8 steps of 16 x 4 int8 inputs, the 16
// tokens' scales d (fp32), then 16 per-token values `aux`: -c * sum(qs) as int32 (Q8_0
// partners, c the weight type's level offset), or Q8_1's s = d * sum(qs) as fp32.
constexpr size_t kLegacyActBytes = 512 + 64 + 64;
// Q8_K super-blocks (256 inputs): 64 steps, the 16 scales d (fp32), then 8 steps of the
// 16 bsums as int16 pairs (bsums 2p, 2p + 1 of each token).
constexpr size_t kKActBytes = 4096 + 64 + 512;

size_t legacy_packed_bytes(int64_t n_tokens, int64_t n_in) noexcept {
    return static_cast<size_t>((n_tokens + kLanes - 1) / kLanes) * static_cast<size_t>(n_in / 32) * kLegacyActBytes;
}
size_t k_packed_bytes(int64_t n_tokens, int64_t n_in) noexcept {
    return static_cast<size_t>((n_tokens + kLanes - 1) / kLanes) * static_cast<size_t>(n_in / 256) * kKActBytes;
}

// Token t of a Q8_0 row (c: the weight levels' offset) or Q8_1 row (kQ8_1).
template <bool kQ8_1, int kOffset>
void pack_legacy(const uint8_t* xq, int64_t t, int64_t n_in, uint8_t* xp) noexcept {
    const int64_t nb = n_in / 32;
    const size_t lane = 4 * static_cast<size_t>(t % kLanes);
    uint8_t* group = xp + static_cast<size_t>(t / kLanes) * static_cast<size_t>(nb) * kLegacyActBytes;
    for (int64_t b = 0; b < nb; ++b) {
        uint8_t* out = group + static_cast<size_t>(b) * kLegacyActBytes + lane;
        if (xq == nullptr) {
            for (int s = 0; s < 10; ++s) std::memset(out + 64 * s, 0, 4);
            continue;
        }
        const uint8_t* qs;
        float d;
        uint32_t aux;
        if constexpr (kQ8_1) {
            const uint8_t* block = xq + static_cast<size_t>(b) * sizeof(BlockQ8_1);
            uint16_t h[2];
            std::memcpy(h, block, 4);
            d = fp16(h[0]);
            const float s = fp16(h[1]);
            std::memcpy(&aux, &s, 4);
            qs = block + 4;
        } else {
            const uint8_t* block = xq + static_cast<size_t>(b) * sizeof(BlockQ8_0);
            uint16_t h;
            std::memcpy(&h, block, 2);
            d = fp16(h);
            qs = block + 2;
            int32_t sum = 0;
            for (int i = 0; i < 32; ++i) sum += static_cast<int8_t>(qs[i]);
            aux = static_cast<uint32_t>(-kOffset * sum);
        }
        for (int s = 0; s < 8; ++s) std::memcpy(out + 64 * s, qs + 4 * s, 4);
        std::memcpy(out + 512, &d, 4);
        std::memcpy(out + 576, &aux, 4);
    }
}

void pack_q8_K(const uint8_t* xq, int64_t t, int64_t n_in, uint8_t* xp) noexcept {
    const int64_t nb = n_in / 256;
    const size_t lane = 4 * static_cast<size_t>(t % kLanes);
    uint8_t* group = xp + static_cast<size_t>(t / kLanes) * static_cast<size_t>(nb) * kKActBytes;
    for (int64_t b = 0; b < nb; ++b) {
        uint8_t* out = group + static_cast<size_t>(b) * kKActBytes + lane;
        if (xq == nullptr) {
            for (int s = 0; s < 64 + 1 + 8; ++s) std::memset(out + 64 * s, 0, 4);
            continue;
        }
        const uint8_t* block = xq + static_cast<size_t>(b) * sizeof(BlockQ8_K);
        for (int s = 0; s < 64; ++s) std::memcpy(out + 64 * s, block + offsetof(BlockQ8_K, qs) + 4 * s, 4);
        std::memcpy(out + 4096, block + offsetof(BlockQ8_K, d), 4);
        for (int p = 0; p < 8; ++p) std::memcpy(out + 4096 + 64 + 64 * p, block + offsetof(BlockQ8_K, bsums) + 4 * p, 4);
    }
}

// ---- the output ------------------------------------------------------------------------

// Partial sums of one panel: part[i][t] for row r + i and token t (< kMaxTokens).
constexpr int64_t kMaxTokens = 256;  // KernelSet::kGemmMaxTokens
using PanelSums = float[kPanelRows][kMaxTokens];

// The panel's sums written to y, one 64-byte line (up to 16 rows) per token: a token's
// rows are contiguous in y while tokens lie y_stride apart, often a multiple of 4 KiB,
// where per-row scalar stores would fight over a few L1 sets.
inline void store_panel(const PanelSums& part, int64_t nrows, const GemmArgs& a, int64_t r) {
    const __mmask16 mask = static_cast<__mmask16>((1u << nrows) - 1);
    const __m512i column = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                              _mm512_set1_epi32(static_cast<int>(kMaxTokens)));
    for (int64_t t = 0; t < a.n_tokens; ++t) {
        const __m512i index = _mm512_add_epi32(column, _mm512_set1_epi32(static_cast<int>(t)));
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, index, &part[0][0], 4);
        _mm512_mask_storeu_ps(a.y + t * a.y_stride + r, mask, v);
    }
}

// ---- legacy 32-weight blocks ------------------------------------------------------------

// A legacy weight type: Block, its unsigned levels (level + kOffset), kMin (Q4_1, Q5_1:
// unsigned levels with a min m, against Q8_1's s).
struct Q8_0U {
    using Block = BlockQ8_0;
    static constexpr int kOffset = 128;
    static constexpr bool kMin = false;
    static __m256i levels(const Block& b) { return _mm256_xor_si256(load256(b.qs), _mm256_set1_epi8(static_cast<char>(0x80))); }
};
struct Q4_0U {
    using Block = BlockQ4_0;
    static constexpr int kOffset = 8;
    static constexpr bool kMin = false;
    static __m256i levels(const Block& b) { return nibbles(b.qs); }
};
struct Q5_0U {
    using Block = BlockQ5_0;
    static constexpr int kOffset = 16;
    static constexpr bool kMin = false;
    static __m256i levels(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(0x10)));
    }
};
struct IQ4_NLU {
    using Block = BlockIQ4_NL;
    static constexpr int kOffset = 128;
    static constexpr bool kMin = false;
    static __m256i levels(const Block& b) { return _mm256_shuffle_epi8(iq4_values_u8(), nibbles(b.qs)); }
};
struct Q4_1U {
    using Block = BlockQ4_1;
    static constexpr int kOffset = 0;
    static constexpr bool kMin = true;
    static __m256i levels(const Block& b) { return nibbles(b.qs); }
};
struct Q5_1U {
    using Block = BlockQ5_1;
    static constexpr int kOffset = 0;
    static constexpr bool kMin = true;
    static __m256i levels(const Block& b) {
        return _mm256_or_si256(nibbles(b.qs), _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(0x10)));
    }
};

template <typename W>
struct Legacy {
    using Block = typename W::Block;
    static constexpr int64_t kBlock = 32;
    static constexpr size_t kActBytes = kLegacyActBytes;
    static constexpr int64_t kChunkBlocks = kChunk / kBlock;
    struct Panel {
        alignas(64) uint8_t q[kPanelRows][kChunk];
        float d[kPanelRows][kChunkBlocks];
        float m[kPanelRows][kChunkBlocks];
    };
    static void unpack(Panel& p, int i, const uint8_t* row, int64_t b0, int64_t nbc) {
        // Blocks read in place (the rows are 2-byte aligned, KernelSet::simd_aligned): a
        // copy to the stack would be reloaded across its stores (no store forwarding).
        const auto* blocks = reinterpret_cast<const typename W::Block*>(row) + b0;
        for (int64_t b = 0; b < nbc; ++b) {
            const typename W::Block& blk = blocks[b];
            store256(p.q[i] + 32 * b, W::levels(blk));
            p.d[i][b] = fp16(blk.d);
            if constexpr (W::kMin) p.m[i][b] = fp16(blk.m);
        }
    }
    template <int NR, int G>
    static void tile(const Panel& p, int i0, int64_t nbc, const uint8_t* const (&x)[G], __m512 (&acc)[G][NR]) {
        for (int64_t b = 0; b < nbc; ++b) {
            __m512i sum[G][NR];
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) {
                const __m512i init = W::kOffset != 0 ? _mm512_load_si512(x[gi] + b * kActBytes + 576)
                                                     : _mm512_setzero_si512();
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) sum[gi][i] = init;
            }
            #pragma GCC unroll 8
            for (int s = 0; s < 8; ++s) {
                __m512i a[G];
                #pragma GCC unroll 4
                for (int gi = 0; gi < G; ++gi) a[gi] = _mm512_load_si512(x[gi] + b * kActBytes + 64 * s);
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) {
                    const __m512i w = _mm512_set1_epi32(static_cast<int>(load_u32(p.q[i0 + i] + 32 * b + 4 * s)));
                    #pragma GCC unroll 4
                    for (int gi = 0; gi < G; ++gi) sum[gi][i] = _mm512_dpbusd_epi32(sum[gi][i], w, a[gi]);
                }
            }
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) {
                const __m512 da = _mm512_load_ps(x[gi] + b * kActBytes + 512);
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) {
                    const __m512 scale = _mm512_mul_ps(da, _mm512_set1_ps(p.d[i0 + i][b]));
                    acc[gi][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[gi][i]), scale, acc[gi][i]);
                }
                if constexpr (W::kMin) {
                    const __m512 sa = _mm512_load_ps(x[gi] + b * kActBytes + 576);
                    #pragma GCC unroll 4
                    for (int i = 0; i < NR; ++i) acc[gi][i] = _mm512_fmadd_ps(_mm512_set1_ps(p.m[i0 + i][b]), sa, acc[gi][i]);
                }
            }
        }
    }
};

// ---- k-quants against Q8_K --------------------------------------------------------------

// A k-quant super-block unpacked: 256 unsigned levels, the integer scale of each of the
// kSub sub-blocks, 8 int16 pairs dotted with the tokens' bsum pairs (the mins of kMins
// types, to be scaled by dmin; otherwise -c * scale, undoing the level offset c), the
// super-scales.
struct KUnpacked {
    uint8_t* q;        // 256 levels
    int32_t* scale;    // kSub
    int32_t* pair;     // 8
    float& d;
    float& dmin;
};

// Q4_K / Q5_K scales and mins (get_scale_min_k4's packing) as 16 bytes: 8 scales, 8 mins.
inline void scales_mins_k4(const uint8_t* packed, uint8_t (&out)[16]) {
    uint32_t u[4] = {};
    std::memcpy(u, packed, 12);
    constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
    u[3] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
    const uint32_t mins_low = u[1] & kLow6;
    u[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
    u[2] = mins_low;
    u[0] &= kLow6;
    std::memcpy(out, u, 16);
}

template <typename B, bool kFifthBit>
struct Q45KU {
    using Block = B;
    static constexpr int kSub = 8;
    static constexpr bool kMins = true;
    static void unpack(const Block& b, const KUnpacked& u) {
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        #pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(b.qs + 32 * c);
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if constexpr (kFifthBit) {
                const __m256i qh = load256(b.qh);
                const __m256i bit = _mm256_set1_epi8(0x10);
                // Bit 2c of qh for the low nibbles, bit 2c + 1 for the high ones, moved to bit 4.
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c), 4), bit));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c + 1), 4), bit));
            }
            store256(u.q + 64 * c, lo);
            store256(u.q + 64 * c + 32, hi);
        }
        uint8_t sm[16];
        scales_mins_k4(b.scales, sm);
        for (int j = 0; j < 8; ++j) {
            u.scale[j] = sm[j];
            u.pair[j] = pair16(sm[8 + j], sm[8 + j]);
        }
        u.d = fp16(b.d);
        u.dmin = fp16(b.dmin);
    }
};
using Q4KU = Q45KU<BlockQ4_K, false>;
using Q5KU = Q45KU<BlockQ5_K, true>;

struct Q6KU {
    using Block = BlockQ6_K;
    static constexpr int kSub = 16;
    static constexpr bool kMins = false;
    static void unpack(const Block& b, const KUnpacked& u) {
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        const __m256i mask2 = _mm256_set1_epi8(3);
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = b.ql + 64 * half;
            const __m256i qh = load256(b.qh + 32 * half);
            const __m256i l0 = load256(ql);
            const __m256i l1 = load256(ql + 32);
            uint8_t* q = u.q + 128 * half;
            store256(q, _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4)));
            store256(q + 32, _mm256_or_si256(_mm256_and_si256(l1, low4),
                                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4)));
            store256(q + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4)));
            store256(q + 96, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4)));
        }
        // Levels are stored with +32.
        for (int j = 0; j < 16; ++j) u.scale[j] = b.scales[j];
        for (int p = 0; p < 8; ++p) u.pair[p] = pair16(-32 * b.scales[2 * p], -32 * b.scales[2 * p + 1]);
        u.d = fp16(b.d);
        u.dmin = 0.0f;
    }
};

struct Q3KU {
    using Block = BlockQ3_K;
    static constexpr int kSub = 16;
    static constexpr bool kMins = false;
    static void unpack(const Block& b, const KUnpacked& u) {
        const __m256i hmask = load256(b.hmask);
        const __m256i mask2 = _mm256_set1_epi8(3);
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(b.qs + 32 * half);
            #pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const int g = 4 * half + j;
                // Low 2 bits, plus 4 where hmask bit g is set: the level plus 4.
                const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), mask2);
                const __m256i high = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(hmask, g), 2),
                                                      _mm256_set1_epi8(4));
                store256(u.q + 32 * g, _mm256_or_si256(low, high));
            }
        }
        for (int j = 0; j < 16; ++j) u.scale[j] = quant::q3_K_scale(b.scales, j) - 32;
        for (int p = 0; p < 8; ++p) u.pair[p] = pair16(-4 * u.scale[2 * p], -4 * u.scale[2 * p + 1]);
        u.d = fp16(b.d);
        u.dmin = 0.0f;
    }
};

struct Q2KU {
    using Block = BlockQ2_K;
    static constexpr int kSub = 16;
    static constexpr bool kMins = true;
    static void unpack(const Block& b, const KUnpacked& u) {
        const __m256i mask2 = _mm256_set1_epi8(3);
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load256(b.qs + 32 * half);
            #pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) store256(u.q + 32 * (4 * half + j), _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), mask2));
        }
        for (int j = 0; j < 16; ++j) u.scale[j] = b.scales[j] & 0x0f;
        for (int p = 0; p < 8; ++p) u.pair[p] = pair16(b.scales[2 * p] >> 4, b.scales[2 * p + 1] >> 4);
        u.d = fp16(b.d);
        u.dmin = fp16(b.dmin);
    }
};

struct IQ4XSU {
    using Block = BlockIQ4_XS;
    static constexpr int kSub = 8;
    static constexpr bool kMins = false;
    static void unpack(const Block& b, const KUnpacked& u) {
        const __m256i values = iq4_values_u8();
        #pragma GCC unroll 8
        for (int ib = 0; ib < 8; ++ib) store256(u.q + 32 * ib, _mm256_shuffle_epi8(values, nibbles(b.qs + 16 * ib)));
        for (int ib = 0; ib < 8; ++ib) {
            const int low = (b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f;
            const int high = (b.scales_h >> (2 * ib)) & 3;
            u.scale[ib] = (low | (high << 4)) - 32;
            // Levels are stored with +128.
            u.pair[ib] = pair16(-128 * u.scale[ib], -128 * u.scale[ib]);
        }
        u.d = fp16(b.d);
        u.dmin = 0.0f;
    }
};

template <typename K>
struct KQuant {
    using Block = typename K::Block;
    static constexpr int64_t kBlock = 256;
    static constexpr size_t kActBytes = kKActBytes;
    static constexpr int64_t kChunkBlocks = kChunk / kBlock;
    static constexpr int kSub = K::kSub;
    struct Panel {
        alignas(64) uint8_t q[kPanelRows][kChunk];
        int32_t scale[kPanelRows][kChunkBlocks][kSub];
        int32_t pair[kPanelRows][kChunkBlocks][8];
        float d[kPanelRows][kChunkBlocks];
        float dmin[kPanelRows][kChunkBlocks];
    };
    static void unpack(Panel& p, int i, const uint8_t* row, int64_t b0, int64_t nbc) {
        const auto* blocks = reinterpret_cast<const typename K::Block*>(row) + b0;
        for (int64_t b = 0; b < nbc; ++b) {
            const typename K::Block& blk = blocks[b];
            K::unpack(blk, KUnpacked{p.q[i] + 256 * b, p.scale[i][b], p.pair[i][b], p.d[i][b], p.dmin[i][b]});
        }
    }
    template <int NR, int G>
    static void tile(const Panel& p, int i0, int64_t nbc, const uint8_t* const (&x)[G], __m512 (&acc)[G][NR]) {
        constexpr int kSteps = 64 / kSub;  // steps of 4 inputs per sub-block
        for (int64_t b = 0; b < nbc; ++b) {
            const uint8_t* xb[G];
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) xb[gi] = x[gi] + b * kActBytes;
            __m512i total[G][NR];
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) {
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) total[gi][i] = _mm512_setzero_si512();
            }
            for (int j = 0; j < kSub; ++j) {
                __m512i sum[G][NR];
                #pragma GCC unroll 4
                for (int gi = 0; gi < G; ++gi) {
                    #pragma GCC unroll 4
                    for (int i = 0; i < NR; ++i) sum[gi][i] = _mm512_setzero_si512();
                }
                #pragma GCC unroll 8
                for (int s = 0; s < kSteps; ++s) {
                    const int step = j * kSteps + s;
                    __m512i a[G];
                    #pragma GCC unroll 4
                    for (int gi = 0; gi < G; ++gi) a[gi] = _mm512_load_si512(xb[gi] + 64 * step);
                    #pragma GCC unroll 4
                    for (int i = 0; i < NR; ++i) {
                        const __m512i w = _mm512_set1_epi32(static_cast<int>(load_u32(p.q[i0 + i] + 256 * b + 4 * step)));
                        #pragma GCC unroll 4
                        for (int gi = 0; gi < G; ++gi) sum[gi][i] = _mm512_dpbusd_epi32(sum[gi][i], w, a[gi]);
                    }
                }
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) {
                    const __m512i scale = _mm512_set1_epi32(p.scale[i0 + i][b][j]);
                    #pragma GCC unroll 4
                    for (int gi = 0; gi < G; ++gi) {
                        total[gi][i] = _mm512_add_epi32(total[gi][i], _mm512_mullo_epi32(sum[gi][i], scale));
                    }
                }
            }
            // The bsum pairs: mins (scaled by dmin below) or the offsets (into the total).
            __m512i mins[G][NR];
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) {
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) mins[gi][i] = K::kMins ? _mm512_setzero_si512() : total[gi][i];
            }
            #pragma GCC unroll 8
            for (int pp = 0; pp < 8; ++pp) {
                __m512i bs[G];
                #pragma GCC unroll 4
                for (int gi = 0; gi < G; ++gi) bs[gi] = _mm512_load_si512(xb[gi] + 4096 + 64 + 64 * pp);
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) {
                    const __m512i w = _mm512_set1_epi32(p.pair[i0 + i][b][pp]);
                    #pragma GCC unroll 4
                    for (int gi = 0; gi < G; ++gi) mins[gi][i] = _mm512_dpwssd_epi32(mins[gi][i], bs[gi], w);
                }
            }
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) {
                const __m512 da = _mm512_load_ps(xb[gi] + 4096);
                #pragma GCC unroll 4
                for (int i = 0; i < NR; ++i) {
                    if constexpr (K::kMins) {
                        acc[gi][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total[gi][i]),
                                                     _mm512_mul_ps(da, _mm512_set1_ps(p.d[i0 + i][b])), acc[gi][i]);
                        acc[gi][i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins[gi][i]),
                                                      _mm512_mul_ps(da, _mm512_set1_ps(p.dmin[i0 + i][b])), acc[gi][i]);
                    } else {
                        acc[gi][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins[gi][i]),
                                                     _mm512_mul_ps(da, _mm512_set1_ps(p.d[i0 + i][b])), acc[gi][i]);
                    }
                }
            }
        }
    }
};

// ---- float weights (F16, BF16) against their own type -----------------------------------

// Activations as fp32 (their fp16 / bf16 values, exact), 16 inputs a block: per input the
// 16 tokens' values (64 bytes). Weights unpacked to fp32: each product is the reference's
// exact fp32 product of the two values, rounded once in the fused multiply-add.
constexpr size_t kFloatActBytes = 16 * 64;

size_t float_packed_bytes(int64_t n_tokens, int64_t n_in) noexcept {
    return static_cast<size_t>((n_tokens + kLanes - 1) / kLanes) * static_cast<size_t>(n_in / 16) * kFloatActBytes;
}

struct F16V {
    using T = uint16_t;
    static __m512 load16(const uint16_t* p) { return _mm512_cvtph_ps(load256(p)); }
    static float one(uint16_t h) { return fp16(h); }
};
struct BF16V {
    using T = uint16_t;
    static __m512 load16(const uint16_t* p) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load256(p)), 16));
    }
    static float one(uint16_t h) {
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
};

template <typename E>
void pack_float(const uint8_t* xq, int64_t t, int64_t n_in, uint8_t* xp) noexcept {
    const size_t lane = 4 * static_cast<size_t>(t % kLanes);
    uint8_t* group = xp + static_cast<size_t>(t / kLanes) * static_cast<size_t>(n_in / 16) * kFloatActBytes;
    for (int64_t k = 0; k < n_in; ++k) {
        float v = 0.0f;
        if (xq != nullptr) {
            uint16_t h;
            std::memcpy(&h, xq + 2 * k, 2);
            v = E::one(h);
        }
        std::memcpy(group + 64 * static_cast<size_t>(k) + lane, &v, 4);
    }
}

template <typename E>
struct Float {
    struct Block {
        uint16_t v[16];
    };
    static constexpr int64_t kBlock = 16;
    static constexpr size_t kActBytes = kFloatActBytes;
    static constexpr int64_t kChunkBlocks = 16;  // 256 inputs: 16 KiB of fp32 for 16 rows
    struct Panel {
        alignas(64) float w[kPanelRows][kChunkBlocks * kBlock];
    };
    static void unpack(Panel& p, int i, const uint8_t* row, int64_t b0, int64_t nbc) {
        const auto* v = reinterpret_cast<const uint16_t*>(row) + b0 * kBlock;
        for (int64_t b = 0; b < nbc; ++b) _mm512_store_ps(p.w[i] + 16 * b, E::load16(v + 16 * b));
    }
    template <int NR, int G>
    static void tile(const Panel& p, int i0, int64_t nbc, const uint8_t* const (&x)[G], __m512 (&acc)[G][NR]) {
        for (int64_t k = 0; k < nbc * kBlock; ++k) {
            __m512 a[G];
            #pragma GCC unroll 4
            for (int gi = 0; gi < G; ++gi) a[gi] = _mm512_load_ps(x[gi] + 64 * k);
            #pragma GCC unroll 4
            for (int i = 0; i < NR; ++i) {
                const __m512 w = _mm512_set1_ps(p.w[i0 + i][k]);
                #pragma GCC unroll 4
                for (int gi = 0; gi < G; ++gi) acc[gi][i] = _mm512_fmadd_ps(a[gi], w, acc[gi][i]);
            }
        }
    }
};

// ---- the driver -------------------------------------------------------------------------

// Rows [r0, r1) against all tokens (at most kMaxTokens): per panel of 16 rows, per chunk
// of kChunk inputs: unpack (16 KiB of levels, in L1 while used; the next chunk's weights
// prefetched), then per 2 groups (32 tokens; then the odd group) the 4-row tiles, added
// to the panel's partial sums; at the end of the row the sums go to y.
template <typename T>
void gemm(const GemmArgs& a) noexcept {
    const int64_t nb = a.n_in / T::kBlock;
    const int64_t n_groups = (a.n_tokens + kLanes - 1) / kLanes;
    const size_t group_bytes = static_cast<size_t>(nb) * T::kActBytes;
    constexpr size_t kChunkBytes = T::kChunkBlocks * sizeof(typename T::Block);
    typename T::Panel panel;
    alignas(64) PanelSums part;
    for (int64_t r = a.r0; r < a.r1; r += kPanelRows) {
        const int64_t np = a.r1 - r < kPanelRows ? a.r1 - r : kPanelRows;
        for (int64_t b0 = 0; b0 < nb; b0 += T::kChunkBlocks) {
            const int64_t nbc = nb - b0 < T::kChunkBlocks ? nb - b0 : T::kChunkBlocks;
            for (int i = 0; i < np; ++i) {
                const uint8_t* row = a.w + static_cast<size_t>(r + i) * a.row_bytes;
                T::unpack(panel, i, row, b0, nbc);
                // The row's next chunk (or the next panel's first): read while this one computes.
                const uint8_t* next = b0 + T::kChunkBlocks < nb ? row + (b0 + nbc) * sizeof(typename T::Block)
                                                                : row + kPanelRows * a.row_bytes;
                for (size_t off = 0; off < kChunkBytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(next + off), _MM_HINT_T0);
            }
            auto run = [&](auto groups, int64_t g) {
                constexpr int G = decltype(groups)::value;
                const uint8_t* x[G];
                for (int gi = 0; gi < G; ++gi) {
                    x[gi] = a.xp + static_cast<size_t>(g + gi) * group_bytes + static_cast<size_t>(b0) * T::kActBytes;
                }
                for (int i0 = 0; i0 < np; i0 += kRows) {
                    with_count<kRows>(np - i0, [&](auto rows) {
                        constexpr int NR = decltype(rows)::value;
                        __m512 acc[G][NR];
                        for (int gi = 0; gi < G; ++gi) {
                            for (int i = 0; i < NR; ++i) {
                                float* sums = &part[i0 + i][(g + gi) * kLanes];
                                acc[gi][i] = b0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(sums);
                            }
                        }
                        T::template tile<NR, G>(panel, i0, nbc, x, acc);
                        for (int gi = 0; gi < G; ++gi) {
                            for (int i = 0; i < NR; ++i) _mm512_store_ps(&part[i0 + i][(g + gi) * kLanes], acc[gi][i]);
                        }
                    });
                }
            };
            int64_t g = 0;
            for (; g + kGroups <= n_groups; g += kGroups) run(std::integral_constant<int, kGroups>{}, g);
            for (; g < n_groups; ++g) run(std::integral_constant<int, 1>{}, g);
        }
        store_panel(part, np, a, r);
    }
}

// Fewest tokens for the GEMM (it computes whole groups of 16): bench/bench_matmul,
// 2048 x 2048, 2 to 12 tokens, one thread on the AMD EPYC (Zen 4) of docs/BENCHMARKS.md:
// Q4_0 is level with the rows kernels at 4 tokens, Q4_K and Q6_K at 6-8, F16 at 12-16;
// from 8 on the quantized GEMMs are twice as fast. Its accuracy equals the rows kernels'
// (NMSE against exact sums 2e-14 for Q5_0, Q8_0, Q4_K, 2048 inputs), but another
// summation order moves Gemma 3's large residual stream: on the 6-token prompt of
// tests/python/test_run.py the logits' mean distance to llama.cpp's went from 0.20 to
// 0.36 (llama.cpp's own flash-attention spread: 0.14), so short prompts stay on the rows
// kernels.
constexpr uint32_t kLegacyMinTokens = 8;
constexpr uint32_t kKQuantMinTokens = 8;
constexpr uint32_t kFloatMinTokens = 16;

template <typename W>
constexpr GemmKernels legacy() {
    return {quantize_q8_0_or_1<W::kMin>, legacy_packed_bytes, pack_legacy<W::kMin, W::kOffset>, gemm<Legacy<W>>, 32, kLegacyMinTokens};
}
template <typename K>
constexpr GemmKernels kquant() {
    return {quantize_q8_K, k_packed_bytes, pack_q8_K, gemm<KQuant<K>>, 256, kKQuantMinTokens};
}

void convert_f16(const float* x, int64_t n, uint8_t* out) noexcept {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; ++i) {
        const uint16_t h = to_fp16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
    }
}

}  // namespace

GemmKernels gemm_kernels_for(gguf::GgmlType type) {
    using gguf::GgmlType;
    switch (type) {
        case GgmlType::F16:
            return {convert_f16, float_packed_bytes, pack_float<F16V>, gemm<Float<F16V>>, 16, kFloatMinTokens};
        case GgmlType::BF16:
            return {nullptr, float_packed_bytes, pack_float<BF16V>, gemm<Float<BF16V>>, 16, kFloatMinTokens};
        case GgmlType::Q8_0:
            return legacy<Q8_0U>();
        case GgmlType::Q4_0:
            return legacy<Q4_0U>();
        case GgmlType::Q5_0:
            return legacy<Q5_0U>();
        case GgmlType::IQ4_NL:
            return legacy<IQ4_NLU>();
        case GgmlType::Q4_1:
            return legacy<Q4_1U>();
        case GgmlType::Q5_1:
            return legacy<Q5_1U>();
        case GgmlType::Q2_K:
            return kquant<Q2KU>();
        case GgmlType::Q3_K:
            return kquant<Q3KU>();
        case GgmlType::Q4_K:
            return kquant<Q4KU>();
        case GgmlType::Q5_K:
            return kquant<Q5KU>();
        case GgmlType::Q6_K:
            return kquant<Q6KU>();
        case GgmlType::IQ4_XS:
            return kquant<IQ4XSU>();
        default:
            return {};
    }
}

}  // namespace loom::kernels::avx512vnni

// Every kernel level this CPU has (each forced in turn) against the scalar reference:
// for every computable weight type, random rows of several lengths (one block, odd block
// counts, float tails), dot products equal to the reference within float summation
// noise; the same on random bytes (extreme and negative scales, every level and
// sub-block scale, -128 in Q8_K activations); matmul_rows writes exactly its rows and
// tokens (guard values around the output stay untouched) and gives each token the dot's
// bits; every type is accelerated at every SIMD level; the level names parse and an
// unsupported level is refused.
#include "kernels/kernel_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "quant/float_types.h"
#include "quant/iq4.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"

namespace loom::kernels {
namespace {

using gguf::GgmlType;

std::vector<Isa> supported_levels() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512Vnni}) {
        if (isa_supported(isa)) out.push_back(isa);
    }
    return out;
}

std::vector<float> random_floats(std::mt19937& rng, int64_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// Bytes of n elements of a type, quantized from floats with the reference quantizer.
std::vector<uint8_t> quantize(GgmlType type, const std::vector<float>& x) {
    const quant::QuantType* q = quant::find_quant_type(type);
    std::vector<uint8_t> out(quant::row_bytes(*q, static_cast<int64_t>(x.size())) + 64);
    q->quantize_row(x.data(), out.data(), static_cast<int64_t>(x.size()));
    return out;
}

// Lengths to test for a type: 1, 2, 3, 7 and 13 blocks, plus float tails.
std::vector<int64_t> lengths(const quant::QuantType& q) {
    std::vector<int64_t> n;
    for (int64_t blocks : {1, 2, 3, 7, 13}) n.push_back(blocks * q.block_size);
    if (q.block_size == 1) {
        for (int64_t odd : {5, 9, 17, 31, 33, 100, 641}) n.push_back(odd);
    } else {
        n.push_back(q.block_size == 32 ? 640 : 2048);  // Gemma 3 270M's widths
    }
    return n;
}

TEST(KernelSet, EveryLevelMatchesTheReferenceForEveryType) {
    std::mt19937 rng(42);
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        EXPECT_EQ(set.isa(), isa);
        for (const quant::QuantType& q : quant::quant_types()) {
            if (q.vec_dot == nullptr) continue;  // activation-only types
            const quant::QuantType* partner = quant::find_quant_type(q.dot_partner);
            ASSERT_NE(set.vec_dot(q.type), nullptr) << q.name;
            if (isa == Isa::Scalar) {
                EXPECT_FALSE(set.accelerated(q.type)) << q.name;
            }
            for (int64_t n : lengths(q)) {
                for (int trial = 0; trial < 4; ++trial) {
                    const std::vector<float> w = random_floats(rng, n, trial == 3 ? 30.0f : 0.5f);
                    const std::vector<float> a = random_floats(rng, n, trial == 2 ? 100.0f : 1.0f);
                    const std::vector<uint8_t> wq = quantize(q.type, w);
                    const std::vector<uint8_t> aq = quantize(partner->type, a);
                    // Offset rows to the least alignment the kernels accept (2 bytes; 4 for
                    // F32): a row may start at any such byte of a mapped file.
                    const size_t offset = q.type == GgmlType::F32 ? 4 : 2;
                    std::vector<uint8_t> wq_odd(wq.size() + offset);
                    std::copy(wq.begin(), wq.end(), wq_odd.begin() + static_cast<std::ptrdiff_t>(offset));
                    const float ref = q.vec_dot(n, wq.data(), aq.data());
                    const float got = set.vec_dot(q.type)(n, wq_odd.data() + offset, aq.data());
                    // Bound: float summation noise relative to the sum of |w_i a_i|.
                    double mag = 0.0;
                    std::vector<float> wd(static_cast<size_t>(n)), ad(static_cast<size_t>(n));
                    q.dequantize_row(wq.data(), wd.data(), n);
                    partner->dequantize_row(aq.data(), ad.data(), n);
                    for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(wd[i]) * ad[i]);
                    EXPECT_NEAR(got, ref, 2e-6 * mag + 1e-30)
                        << isa_name(isa) << " " << q.name << " n=" << n << " trial " << trial;
                }
            }
        }
    }
}

// Offsets of the fp16 scale and min fields in one block of each quantized weight type.
std::vector<size_t> half_fields(GgmlType type) {
    switch (type) {
        case GgmlType::Q4_0: return {offsetof(quant::BlockQ4_0, d)};
        case GgmlType::Q4_1: return {offsetof(quant::BlockQ4_1, d), offsetof(quant::BlockQ4_1, m)};
        case GgmlType::Q5_0: return {offsetof(quant::BlockQ5_0, d)};
        case GgmlType::Q5_1: return {offsetof(quant::BlockQ5_1, d), offsetof(quant::BlockQ5_1, m)};
        case GgmlType::Q8_0: return {offsetof(quant::BlockQ8_0, d)};
        case GgmlType::Q2_K: return {offsetof(quant::BlockQ2_K, d), offsetof(quant::BlockQ2_K, dmin)};
        case GgmlType::Q3_K: return {offsetof(quant::BlockQ3_K, d)};
        case GgmlType::Q4_K: return {offsetof(quant::BlockQ4_K, d), offsetof(quant::BlockQ4_K, dmin)};
        case GgmlType::Q5_K: return {offsetof(quant::BlockQ5_K, d), offsetof(quant::BlockQ5_K, dmin)};
        case GgmlType::Q6_K: return {offsetof(quant::BlockQ6_K, d)};
        case GgmlType::IQ4_NL: return {offsetof(quant::BlockIQ4_NL, d)};
        case GgmlType::IQ4_XS: return {offsetof(quant::BlockIQ4_XS, d)};
        default: return {};
    }
}

// A finite fp16 of either sign from 0 through subnormals up to 2^11 (or below the fp16
// bits `max`): any scale a file may hold.
uint16_t random_scale(std::mt19937& rng, int max = 0x67ff) {
    const auto magnitude = static_cast<uint16_t>(std::uniform_int_distribution<int>(0, max)(rng));
    return static_cast<uint16_t>(magnitude | ((rng() & 1) != 0 ? 0x8000 : 0));
}

// n elements of a quantized weight type as random bytes (every level, sub-block scale
// and min the format can hold) with random finite fp16 super-scales.
std::vector<uint8_t> random_weight_blocks(std::mt19937& rng, const quant::QuantType& q, int64_t n) {
    std::vector<uint8_t> out(quant::row_bytes(q, n));
    for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
    for (size_t block = 0; block < out.size(); block += q.block_bytes) {
        for (size_t offset : half_fields(q.type)) {
            const uint16_t h = random_scale(rng);
            std::memcpy(out.data() + block + offset, &h, 2);
        }
    }
    return out;
}

// n elements of an activation type with random levels and scales: Q8_0 / Q8_1 levels in
// [-127, 127] (the quantizer's range, which the legacy kernels rely on), Q8_K levels
// over the whole int8 range with many -128, which the format can hold; sums consistent.
std::vector<uint8_t> random_activation_blocks(std::mt19937& rng, GgmlType type, int64_t n) {
    std::uniform_int_distribution<int> level(-127, 127), any_level(-128, 127);
    std::vector<uint8_t> out;
    auto append = [&out](const auto& block) {
        const auto* bytes = reinterpret_cast<const uint8_t*>(&block);
        out.insert(out.end(), bytes, bytes + sizeof block);
    };
    if (type == GgmlType::Q8_K) {
        std::uniform_real_distribution<float> exponent(-30.0f, 10.0f);
        for (int64_t i = 0; i < n / 256; ++i) {
            quant::BlockQ8_K b{};
            b.d = std::exp2(exponent(rng)) * ((rng() & 1) != 0 ? -1.0f : 1.0f);
            for (int8_t& x : b.qs) x = static_cast<int8_t>(rng() % 8 == 0 ? -128 : any_level(rng));
            for (int j = 0; j < 16; ++j) {
                int sum = 0;
                for (int l = 0; l < 16; ++l) sum += b.qs[16 * j + l];
                b.bsums[j] = static_cast<int16_t>(sum);
            }
            append(b);
        }
    } else if (type == GgmlType::Q8_1) {
        for (int64_t i = 0; i < n / 32; ++i) {
            quant::BlockQ8_1 b{};
            b.d = random_scale(rng, 0x4bff);  // below 16: s = d * sum (|sum| <= 4064) stays finite
            int sum = 0;
            for (int8_t& x : b.qs) sum += x = static_cast<int8_t>(level(rng));
            b.s = quant::fp32_to_fp16(quant::fp16_to_fp32(b.d) * static_cast<float>(sum));
            append(b);
        }
    } else {
        for (int64_t i = 0; i < n / 32; ++i) {
            quant::BlockQ8_0 b{};
            b.d = random_scale(rng);
            for (int8_t& x : b.qs) x = static_cast<int8_t>(level(rng));
            append(b);
        }
    }
    return out;
}

// Random bytes instead of quantized data: extreme and negative scales, every level and
// sub-block scale, -128 activations for Q8_K. Each level's dot and rows kernel against
// the reference, and rows of many tokens bit for bit against the dot.
TEST(KernelSet, RandomBlocksWithExtremeScalesMatchTheReference) {
    std::mt19937 rng(11);
    const int64_t n_out = 3, n_tokens = 10;
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (const quant::QuantType& q : quant::quant_types()) {
            if (q.vec_dot == nullptr || q.block_size == 1) continue;  // float types: other tests
            ASSERT_FALSE(half_fields(q.type).empty()) << q.name << ": add its fp16 fields to half_fields";
            const quant::QuantType* partner = quant::find_quant_type(q.dot_partner);
            for (int64_t n : lengths(q)) {
                std::vector<uint8_t> w;
                for (int64_t r = 0; r < n_out; ++r) {
                    const std::vector<uint8_t> row = random_weight_blocks(rng, q, n);
                    w.insert(w.end(), row.begin(), row.end());
                }
                const size_t stride = quant::row_bytes(*partner, n);
                std::vector<uint8_t> act;
                for (int64_t t = 0; t < n_tokens; ++t) {
                    const std::vector<uint8_t> row = random_activation_blocks(rng, partner->type, n);
                    act.insert(act.end(), row.begin(), row.end());
                }
                Matrix m{q.type, w.data(), n, n_out, quant::row_bytes(q, n)};
                std::vector<float> y(static_cast<size_t>(n_out * n_tokens));
                set.matmul_rows(m, act.data(), stride, n_tokens, y.data(), n_out, 0, n_out);
                std::vector<float> wd(static_cast<size_t>(n)), ad(static_cast<size_t>(n));
                for (int64_t r = 0; r < n_out; ++r) {
                    const uint8_t* wr = w.data() + r * m.row_bytes;
                    q.dequantize_row(wr, wd.data(), n);
                    for (int64_t t = 0; t < n_tokens; ++t) {
                        const uint8_t* at = act.data() + t * stride;
                        partner->dequantize_row(at, ad.data(), n);
                        double mag = 0.0;
                        for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(wd[i]) * ad[i]);
                        const float ref = q.vec_dot(n, wr, at);
                        const float got = set.vec_dot(q.type)(n, wr, at);
                        // Bound: float summation noise relative to the sum of |w_i a_i|.
                        ASSERT_NEAR(got, ref, 2e-6 * mag + 1e-30)
                            << isa_name(isa) << " " << q.name << " n=" << n << " row " << r << " token " << t;
                        ASSERT_EQ(y[t * n_out + r], got) << isa_name(isa) << " " << q.name << " n=" << n;
                    }
                }
            }
        }
    }
}

TEST(KernelSet, MatmulRowsWritesExactlyItsRowsAndTokens) {
    std::mt19937 rng(7);
    // 11 tokens: a full tile of eight (two of four for the float types) and a remainder.
    const int64_t n_in = 512, n_out = 11, n_tokens = 11;
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (const quant::QuantType& qt : quant::quant_types()) {
            if (qt.vec_dot == nullptr) continue;  // activation-only types
            const GgmlType type = qt.type;
            const quant::QuantType* q = &qt;
            std::vector<uint8_t> weights;
            for (int64_t r = 0; r < n_out; ++r) {
                std::vector<uint8_t> row = quantize(type, random_floats(rng, n_in, 0.3f));
                row.resize(quant::row_bytes(*q, n_in));
                weights.insert(weights.end(), row.begin(), row.end());
            }
            Matrix m{type, weights.data(), n_in, n_out, quant::row_bytes(*q, n_in)};
            const size_t stride = activation_row_bytes(type, n_in);
            std::vector<uint8_t> act(stride * n_tokens);
            std::vector<std::vector<float>> x;
            for (int64_t t = 0; t < n_tokens; ++t) {
                x.push_back(random_floats(rng, n_in, 1.0f));
                convert_activations(type, x.back().data(), n_in, act.data() + t * stride);
            }
            // y rows of n_out + 4 floats, guards everywhere outside [r0, r1) of each token.
            const int64_t y_stride = n_out + 4;
            const float guard = -12345.0f;
            std::vector<float> y(static_cast<size_t>(y_stride * n_tokens + 8), guard);
            set.matmul_rows(m, act.data(), stride, n_tokens, y.data() + 4, y_stride, 2, 9);
            for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
                const int64_t rel = i - 4;
                const bool inside = rel >= 0 && rel < y_stride * n_tokens && rel % y_stride >= 2 && rel % y_stride < 9;
                if (!inside) {
                    ASSERT_EQ(y[i], guard) << isa_name(isa) << " " << q->name << " wrote outside at " << i;
                    continue;
                }
                const int64_t t = rel / y_stride, r = rel % y_stride;
                const float ref = q->vec_dot(n_in, weights.data() + r * m.row_bytes, act.data() + t * stride);
                EXPECT_NEAR(y[i], ref, 1e-4f * (1.0f + std::fabs(ref))) << isa_name(isa) << " " << q->name;
                // Many tokens at once give exactly what one token at a time gives, so
                // prompt processing and generation agree bit for bit.
                const float one = set.vec_dot(type)(n_in, weights.data() + r * m.row_bytes, act.data() + t * stride);
                EXPECT_EQ(y[i], one) << isa_name(isa) << " " << q->name << " token " << t << " row " << r;
            }
        }
    }
}

// The whole product through KernelSet::matmul (the GEMM kernels from their min_tokens
// on, where the level has them; the rows kernels below), for every type and level: token
// counts around the 16-token groups and past kGemmMaxTokens, inputs past the GEMM's
// input chunks, row counts past a 16-row panel with a partial 4-row tile, a pool of 2
// threads, guard values around every output row, random weight bytes for the quantized
// types (extreme scales, every level).
TEST(KernelSet, MatmulOfManyTokensMatchesTheReference) {
    std::mt19937 rng(23);
    ThreadPool pool(2);
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (const quant::QuantType& q : quant::quant_types()) {
            if (q.vec_dot == nullptr) continue;  // activation-only types
            const quant::QuantType* partner = quant::find_quant_type(q.dot_partner);
            struct Shape {
                int64_t n_in, n_out;
                uint32_t n;
            };
            // Per type: blocks of 256 (k-quants), 32 (legacy), 1 (float types; the GEMM's
            // chunks are 256 inputs there, its blocks 16).
            const int64_t bs = q.block_size;
            const std::vector<Shape> shapes = {
                {bs == 1 ? 64 : 2 * bs, 7, 16},
                {bs == 1 ? 80 : 3 * bs, 5, 17},
                {bs == 256 ? 2304 : bs == 32 ? 2080 : 272, 21, 47},  // two input chunks, the second partial
                {bs == 1 ? 64 : bs, 4, 5},                           // below the GEMM: the rows kernels
                {bs == 1 ? 64 : bs, 6, 9},
                {bs == 1 ? 64 : 2 * bs, 17, 6},
                {bs == 1 ? 24 : bs, 3, 300},  // two token chunks (float types: n_in not a multiple of 16)
            };
            for (const Shape& sh : shapes) {
                const size_t rb = quant::row_bytes(q, sh.n_in);
                std::vector<uint8_t> w;
                for (int64_t r = 0; r < sh.n_out; ++r) {
                    std::vector<uint8_t> row = bs == 1 ? quantize(q.type, random_floats(rng, sh.n_in, 0.5f))
                                                       : random_weight_blocks(rng, q, sh.n_in);
                    row.resize(rb);
                    w.insert(w.end(), row.begin(), row.end());
                }
                std::vector<float> x = random_floats(rng, sh.n_in * sh.n, 1.0f);
                const int64_t y_stride = sh.n_out + 3;
                const float guard = -12345.0f;
                std::vector<float> y(static_cast<size_t>(y_stride * sh.n), guard);
                std::vector<uint8_t> scratch(KernelSet::matmul_scratch_bytes(sh.n, static_cast<size_t>(sh.n_in)) + 64,
                                             0xa5);
                // The scratch at an odd offset: matmul aligns what it needs itself.
                Matrix m{q.type, w.data(), sh.n_in, sh.n_out, rb};
                set.matmul(pool, m, x.data(), static_cast<size_t>(sh.n_in), sh.n, y.data(), static_cast<size_t>(y_stride),
                           scratch.data() + 1);
                for (size_t i = scratch.size() - 63; i < scratch.size(); ++i) ASSERT_EQ(scratch[i], 0xa5) << q.name;
                std::vector<uint8_t> act(activation_row_bytes(q.type, sh.n_in));
                std::vector<float> wd(static_cast<size_t>(sh.n_in)), ad(static_cast<size_t>(sh.n_in));
                for (uint32_t t = 0; t < sh.n; ++t) {
                    convert_activations(q.type, x.data() + t * sh.n_in, sh.n_in, act.data());
                    partner->dequantize_row(act.data(), ad.data(), sh.n_in);
                    for (int64_t r = 0; r < y_stride; ++r) {
                        const float got = y[t * y_stride + r];
                        if (r >= sh.n_out) {
                            ASSERT_EQ(got, guard) << isa_name(isa) << " " << q.name << " wrote outside";
                            continue;
                        }
                        const uint8_t* wr = w.data() + r * rb;
                        q.dequantize_row(wr, wd.data(), sh.n_in);
                        double mag = 0.0;
                        for (int64_t i = 0; i < sh.n_in; ++i) mag += std::fabs(static_cast<double>(wd[i]) * ad[i]);
                        // Bound: float summation noise relative to the sum of |w_i a_i| (the
                        // integer block sums are exact; their scaled sum runs in another order).
                        ASSERT_NEAR(got, q.vec_dot(sh.n_in, wr, act.data()), 2e-6 * mag + 1e-30)
                            << isa_name(isa) << " " << q.name << " n_in=" << sh.n_in << " n=" << sh.n << " row " << r
                            << " token " << t;
                    }
                }
            }
        }
    }
}

// KernelSet::convert (SIMD at some levels) gives convert_activations' bytes exactly: on
// normal data, on exact rounding ties (a block whose largest magnitude is 127 is scaled
// by 1, so halves stay halves), on blocks whose largest magnitude comes with both signs
// (the first one decides Q8_K's sign), on zero blocks and on tiny and huge scales.
TEST(KernelSet, ConvertIsBitExactWithTheReference) {
    std::mt19937 rng(31);
    std::uniform_int_distribution<int> half_steps(-254, 254);
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (const quant::QuantType& q : quant::quant_types()) {
            if (q.vec_dot == nullptr) continue;
            const int64_t n = q.block_size == 256 ? 1024 : (q.block_size == 1 ? 64 : 256);
            for (int trial = 0; trial < 8; ++trial) {
                std::vector<float> x = random_floats(rng, n, trial == 1 ? 1e-6f : trial == 2 ? 1e4f : 1.0f);
                if (trial >= 3) {
                    for (float& v : x) v = 0.5f * static_cast<float>(half_steps(rng));
                    for (int64_t b = 0; b + 32 <= n; b += 32) {
                        x[b + rng() % 32] = (rng() & 1) != 0 ? 127.0f : -127.0f;
                        if (trial >= 5) x[b + rng() % 32] = (rng() & 1) != 0 ? 127.0f : -127.0f;
                    }
                }
                if (trial == 7) std::fill(x.begin(), x.begin() + std::min<int64_t>(n, 256), 0.0f);
                const size_t bytes = activation_row_bytes(q.type, n);
                std::vector<uint8_t> ref(bytes + 16, 0x5a), got(bytes + 16, 0x5a);
                convert_activations(q.type, x.data(), n, ref.data());
                set.convert(q.type, x.data(), n, got.data());
                ASSERT_EQ(got, ref) << isa_name(isa) << " " << q.name << " trial " << trial;
            }
        }
    }
}

// to_float gives dequantize_row's floats exactly: every fp16 value (NaNs included, by
// bits), with a tail past the SIMD width, and a quantized type through the reference.
TEST(KernelSet, ToFloatIsBitExactWithTheReference) {
    std::vector<uint16_t> h(65536 + 5);
    for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i * 7919u);
    const quant::QuantType* f16 = quant::find_quant_type(GgmlType::F16);
    std::vector<float> ref(h.size());
    f16->dequantize_row(h.data(), ref.data(), static_cast<int64_t>(h.size()));
    std::mt19937 rng(41);
    const std::vector<uint8_t> q8 = quantize(GgmlType::Q8_0, random_floats(rng, 64, 1.0f));
    std::vector<float> q8_ref(64);
    quant::find_quant_type(GgmlType::Q8_0)->dequantize_row(q8.data(), q8_ref.data(), 64);
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        std::vector<float> got(h.size() + 1, -7.0f);
        set.to_float(GgmlType::F16, h.data(), got.data(), static_cast<int64_t>(h.size()));
        ASSERT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)), 0) << isa_name(isa);
        EXPECT_EQ(got.back(), -7.0f) << isa_name(isa);
        std::vector<float> q8_got(64);
        set.to_float(GgmlType::Q8_0, q8.data(), q8_got.data(), 64);
        EXPECT_EQ(q8_got, q8_ref) << isa_name(isa);
    }
}

TEST(KernelSet, FloatHelpersMatchTheReference) {
    std::mt19937 rng(3);
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (int64_t n : {1, 7, 8, 9, 64, 255, 256, 640}) {
            std::vector<float> x = random_floats(rng, n, 2.0f), y = random_floats(rng, n, 2.0f);
            double ref = 0.0, mag = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                ref += static_cast<double>(x[i]) * y[i];
                mag += std::fabs(static_cast<double>(x[i]) * y[i]);
            }
            EXPECT_NEAR(set.dot(x.data(), y.data(), n), ref, 1e-6 * mag) << isa_name(isa) << " n=" << n;
            // axpy writes exactly n values (a guard after them stays).
            std::vector<float> acc = y;
            acc.push_back(-7.0f);
            set.axpy(n, 0.5f, x.data(), acc.data());
            for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(acc[i], y[i] + 0.5f * x[i]) << isa_name(isa);
            EXPECT_EQ(acc[n], -7.0f);
        }
    }
}

TEST(KernelSet, GeluMatchesTheReferenceForEveryFp16Input) {
    // gelu_tanh depends on fp16(x) between -10 and 10 and is x or 0 outside: every fp16
    // value, the boundaries, values that round to another fp16, and a tail.
    std::vector<float> x;
    for (uint32_t h = 0; h < 65536; ++h) {
        const float v = quant::fp16_to_fp32(static_cast<uint16_t>(h));
        if (std::isfinite(v)) x.push_back(v);
    }
    for (float v : {-10.0f, 10.0f, -9.999f, 9.999f, -10.001f, 10.001f, 1e-8f, -1e-8f, 0.33333334f, 3.1415927f, 123.0f}) {
        x.push_back(v);
    }
    std::vector<float> up(x.size());
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    for (float& u : up) u = dist(rng);
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        std::vector<float> g = x;
        set.gelu_mul(g.data(), up.data(), static_cast<int64_t>(g.size()));
        for (size_t i = 0; i < x.size(); ++i) {
            ASSERT_EQ(g[i], gelu_tanh(x[i]) * up[i]) << isa_name(isa) << " x=" << x[i];
        }
    }
}

TEST(KernelSet, MisalignedRowsFallBackToTheReference) {
    // A hostile file may set general.alignment to 1 and put rows at odd addresses: the
    // product then takes the reference kernels (memcpy loads), bit for bit.
    std::mt19937 rng(11);
    const int64_t n_in = 256;
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (GgmlType type : {GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_K}) {
            const quant::QuantType* q = quant::find_quant_type(type);
            const std::vector<uint8_t> row = quantize(type, random_floats(rng, n_in, 0.5f));
            std::vector<uint8_t> odd(row.size() + 1);
            std::copy(row.begin(), row.end(), odd.begin() + 1);
            EXPECT_FALSE(KernelSet::simd_aligned(type, odd.data() + 1, quant::row_bytes(*q, n_in)));
            const std::vector<float> x = random_floats(rng, n_in, 1.0f);
            std::vector<uint8_t> act(activation_row_bytes(type, n_in));
            convert_activations(type, x.data(), n_in, act.data());
            Matrix m{type, odd.data() + 1, n_in, 1, quant::row_bytes(*q, n_in)};
            float y = 0.0f;
            set.matmul_rows(m, act.data(), act.size(), 1, &y, 1, 0, 1);
            EXPECT_EQ(y, q->vec_dot(n_in, row.data(), act.data())) << isa_name(isa) << " " << q->name;
        }
    }
}

TEST(KernelSet, LevelsParseAndUnsupportedLevelsAreRefused) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512Vnni}) {
        EXPECT_EQ(parse_isa(isa_name(isa)), isa);
        if (!isa_supported(isa)) {
            EXPECT_THROW(KernelSet{isa}, Error);
        }
    }
    EXPECT_FALSE(parse_isa("sse9").has_value());
    EXPECT_TRUE(isa_supported(Isa::Scalar));
    EXPECT_TRUE(isa_supported(detect_isa()));
}

TEST(KernelSet, EveryComputableTypeIsAcceleratedWhereTheCpuAllows) {
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "no AVX2 on this CPU";
    for (Isa isa : supported_levels()) {
        if (isa == Isa::Scalar) continue;
        KernelSet set(isa);
        for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0,
                              GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::IQ4_NL, GgmlType::Q2_K,
                              GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_XS}) {
            EXPECT_TRUE(set.accelerated(type)) << isa_name(isa) << " " << gguf::ggml_type_name(type);
        }
    }
}

}  // namespace
}  // namespace loom::kernels

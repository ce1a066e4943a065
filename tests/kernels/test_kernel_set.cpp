// Every kernel level this CPU has (each forced in turn) against the scalar reference:
// for every computable weight type, random rows of several lengths (one block, odd block
// counts, float tails), dot products equal to the reference within float summation
// noise; matmul_rows writes exactly its rows and tokens (guard values around the output
// stay untouched); the level names parse and an unsupported level is refused.
#include "kernels/kernel_set.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "quant/float_types.h"

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
                    // Offset rows by an odd byte: kernels must accept any alignment.
                    std::vector<uint8_t> wq_odd(wq.size() + 1);
                    std::copy(wq.begin(), wq.end(), wq_odd.begin() + 1);
                    const float ref = q.vec_dot(n, wq.data(), aq.data());
                    const float got = set.vec_dot(q.type)(n, wq_odd.data() + 1, aq.data());
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

TEST(KernelSet, MatmulRowsWritesExactlyItsRowsAndTokens) {
    std::mt19937 rng(7);
    // 7 tokens: a full tile of four and a remainder of three.
    const int64_t n_in = 512, n_out = 11, n_tokens = 7;
    for (Isa isa : supported_levels()) {
        KernelSet set(isa);
        for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0,
                              GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q5_K, GgmlType::IQ4_XS}) {
            const quant::QuantType* q = quant::find_quant_type(type);
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

TEST(KernelSet, TheMainTypesAreAcceleratedWhereTheCpuAllows) {
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "no AVX2 on this CPU";
    KernelSet set(Isa::Avx2);
    for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0,
                          GgmlType::Q4_K, GgmlType::Q6_K}) {
        EXPECT_TRUE(set.accelerated(type)) << gguf::ggml_type_name(type);
    }
}

}  // namespace
}  // namespace loom::kernels

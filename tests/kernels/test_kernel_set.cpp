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
            if (isa == Isa::Scalar) EXPECT_FALSE(set.accelerated(q.type)) << q.name;
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
    const int64_t n_in = 512, n_out = 11, n_tokens = 3;
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
            }
        }
    }
}

TEST(KernelSet, LevelsParseAndUnsupportedLevelsAreRefused) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512Vnni}) {
        EXPECT_EQ(parse_isa(isa_name(isa)), isa);
        if (!isa_supported(isa)) EXPECT_THROW(KernelSet{isa}, Error);
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

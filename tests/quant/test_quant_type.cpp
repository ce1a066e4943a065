// Table-driven consistency tests over every entry of quant_types(): the table against
// gguf's type table, quantize -> dequantize NMSE per type, vec_dot against the float dot
// of the dequantized rows, guard zones around every output, unaligned rows, zero rows and
// large magnitudes. A type added to the table is covered here without edits, except for
// its NMSE bound below (a missing bound fails the test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/ggml_type.h"
#include "quant/quant_type.h"
#include "quant_test_util.h"

namespace loom::quant {
namespace {

using gguf::GgmlType;
using test::GuardedBuffer;
using test::nmse;
using test::random_normal;

// Round-trip NMSE bound on N(0, sigma^2) rows of 4096 (sum of squared errors over sum of
// squares). Origin of each bound: for the quantized types, the worst value this test
// measured over its 9 rows (3 seeds x sigma 0.02, 1, 300; the number in the comment),
// times 1.3 for seed-to-seed spread; it also matches the uniform-quantizer estimate
// step^2/12 (Q8_0: step = absmax/127 ~ 2.2/127, so ~2.5e-5). For the float types, the
// worst case of the format: relative error at most half an ulp, 2^-11 (F16) or 2^-8
// (BF16), squared. F32 is an exact copy.
const std::map<GgmlType, double>& nmse_bounds() {
    static const std::map<GgmlType, double> bounds = {
        {GgmlType::F32, 0.0},        // exact
        {GgmlType::F16, 2.4e-7},     // 2^-22; measured 4.5e-8
        {GgmlType::BF16, 1.53e-5},   // 2^-16; measured 2.8e-6
        {GgmlType::Q4_0, 1.0e-2},    // measured 7.67e-3
        {GgmlType::Q4_1, 8.1e-3},    // measured 6.22e-3
        {GgmlType::Q5_0, 2.5e-3},    // measured 1.86e-3
        {GgmlType::Q5_1, 1.9e-3},    // measured 1.46e-3
        {GgmlType::Q8_0, 3.8e-5},    // measured 2.92e-5
        {GgmlType::Q8_1, 3.8e-5},    // measured 2.92e-5
        {GgmlType::Q2_K, 1.17e-1},   // measured 9.01e-2
        {GgmlType::Q3_K, 3.1e-2},    // measured 2.34e-2
        {GgmlType::Q4_K, 6.9e-3},    // measured 5.28e-3
        {GgmlType::Q5_K, 1.7e-3},    // measured 1.31e-3
        {GgmlType::Q6_K, 4.2e-4},    // measured 3.22e-4
        {GgmlType::Q8_K, 6.3e-5},    // measured 4.81e-5 (absmax of 256, not 32)
        {GgmlType::IQ4_NL, 7.6e-3},  // measured 5.84e-3
        {GgmlType::IQ4_XS, 7.7e-3},  // measured 5.90e-3
    };
    return bounds;
}

double nmse_bound(GgmlType type) {
    const auto& bounds = nmse_bounds();
    auto it = bounds.find(type);
    return it == bounds.end() ? -1.0 : it->second;
}

std::string type_name(const testing::TestParamInfo<QuantType>& info) {
    return std::string(info.param.name);
}

class QuantTypeTest : public testing::TestWithParam<QuantType> {
protected:
    const QuantType& qt() const { return GetParam(); }
    const QuantType& partner() const { return *find_quant_type(qt().dot_partner); }

    std::vector<uint8_t> quantize(const std::vector<float>& x) const {
        std::vector<uint8_t> q(row_bytes(qt(), static_cast<int64_t>(x.size())));
        qt().quantize_row(x.data(), q.data(), static_cast<int64_t>(x.size()));
        return q;
    }

    std::vector<float> dequantize(const QuantType& type, const std::vector<uint8_t>& q,
                                  int64_t n) const {
        std::vector<float> out(static_cast<size_t>(n));
        type.dequantize_row(q.data(), out.data(), n);
        return out;
    }
};

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantTypeTest, testing::ValuesIn(quant_types()), type_name);

// ---- the table ---------------------------------------------------------------------

TEST(QuantTable, MatchesGgufTypeTable) {
    for (const auto& qt : quant_types()) {
        SCOPED_TRACE(std::string(qt.name));
        const auto& traits = gguf::traits(qt.type);
        EXPECT_EQ(qt.name, traits.name);
        EXPECT_EQ(qt.block_size, traits.block_size);
        EXPECT_EQ(qt.block_bytes, traits.block_bytes);
        EXPECT_EQ(find_quant_type(qt.type), &qt);
        ASSERT_NE(qt.dequantize_row, nullptr);
        ASSERT_NE(qt.quantize_row, nullptr);
        const QuantType* partner = find_quant_type(qt.dot_partner);
        ASSERT_NE(partner, nullptr);
        EXPECT_EQ(partner->block_size, qt.block_size) << "partner blocks must line up";
        const bool activation_only = qt.type == GgmlType::Q8_1 || qt.type == GgmlType::Q8_K;
        EXPECT_EQ(qt.vec_dot == nullptr, activation_only);
    }
}

TEST(QuantTable, InIdOrderWithoutDuplicates) {
    uint32_t previous = 0;
    bool first = true;
    for (const auto& qt : quant_types()) {
        const auto id = static_cast<uint32_t>(qt.type);
        EXPECT_TRUE(first || id > previous) << qt.name;
        previous = id;
        first = false;
    }
}

TEST(QuantTable, DotPartnersFollowGgmlCpu) {
    const std::map<GgmlType, GgmlType> expected = {
        {GgmlType::F32, GgmlType::F32},     {GgmlType::F16, GgmlType::F16},
        {GgmlType::BF16, GgmlType::BF16},   {GgmlType::Q4_0, GgmlType::Q8_0},
        {GgmlType::Q5_0, GgmlType::Q8_0},   {GgmlType::Q8_0, GgmlType::Q8_0},
        {GgmlType::IQ4_NL, GgmlType::Q8_0}, {GgmlType::Q4_1, GgmlType::Q8_1},
        {GgmlType::Q5_1, GgmlType::Q8_1},   {GgmlType::Q2_K, GgmlType::Q8_K},
        {GgmlType::Q3_K, GgmlType::Q8_K},   {GgmlType::Q4_K, GgmlType::Q8_K},
        {GgmlType::Q5_K, GgmlType::Q8_K},   {GgmlType::Q6_K, GgmlType::Q8_K},
        {GgmlType::IQ4_XS, GgmlType::Q8_K},
    };
    for (const auto& [type, partner] : expected) {
        const QuantType* qt = find_quant_type(type);
        ASSERT_NE(qt, nullptr) << gguf::ggml_type_name(type);
        EXPECT_EQ(qt->dot_partner, partner) << qt->name;
    }
}

TEST(QuantTable, UnsupportedTypesAreNotFound) {
    for (auto type : {GgmlType::IQ2_XXS, GgmlType::IQ3_S, GgmlType::IQ1_M, GgmlType::TQ1_0,
                      GgmlType::MXFP4, GgmlType::I32, GgmlType::F64}) {
        EXPECT_EQ(find_quant_type(type), nullptr) << gguf::ggml_type_name(type);
    }
}

TEST(QuantTable, VecDotOfActivationOnlyTypeThrows) {
    const std::vector<uint8_t> block(292, 0);
    EXPECT_THROW(vec_dot(GgmlType::Q8_K, 256, block.data(), block.data()), Error);
    EXPECT_THROW(vec_dot(GgmlType::IQ2_XXS, 256, block.data(), block.data()), Error);
}

// ---- round trip --------------------------------------------------------------------

TEST_P(QuantTypeTest, RoundTripNmseWithinBound) {
    const double bound = nmse_bound(qt().type);
    ASSERT_GE(bound, 0.0) << "no NMSE bound for " << qt().name << ": add one to nmse_bounds()";
    constexpr int64_t n = 4096;
    double worst = 0.0;
    // Typical weight magnitude (0.02), unit, and large (300: scales far from fp16 limits).
    for (float sigma : {0.02f, 1.0f, 300.0f}) {
        for (uint32_t seed : {1u, 2u, 3u}) {
            const auto x = random_normal(n, seed, sigma);
            const auto q = quantize(x);
            const auto y = dequantize(qt(), q, n);
            const double e = nmse(x.data(), y.data(), n);
            worst = std::max(worst, e);
            EXPECT_LE(e, bound) << "sigma " << sigma << " seed " << seed;
        }
    }
    RecordProperty("worst_nmse", std::to_string(worst));
    std::printf("[ NMSE     ] %-7s worst %.3g (bound %.3g)\n", std::string(qt().name).c_str(),
                worst, bound);
}

TEST_P(QuantTypeTest, DequantizeIsDeterministicAndRequantizesClose) {
    // Quantizing a dequantized row again must not move it further than one round trip.
    constexpr int64_t n = 1024;
    const auto x = random_normal(n, 7);
    const auto q = quantize(x);
    const auto y = dequantize(qt(), q, n);
    const auto y2 = dequantize(qt(), q, n);
    EXPECT_EQ(std::memcmp(y.data(), y2.data(), sizeof(float) * n), 0);
    const auto q2 = quantize(y);
    const auto z = dequantize(qt(), q2, n);
    EXPECT_LE(nmse(y.data(), z.data(), n), nmse_bound(qt().type));
}

// ---- dot ---------------------------------------------------------------------------

TEST_P(QuantTypeTest, VecDotMatchesDotOfDequantizedRows) {
    if (qt().vec_dot == nullptr) GTEST_SKIP() << "activation-side only";
    for (int64_t n : {static_cast<int64_t>(qt().block_size) * 8, int64_t{4096}}) {
        for (uint32_t seed : {11u, 12u, 13u}) {
            SCOPED_TRACE("n " + std::to_string(n) + " seed " + std::to_string(seed));
            const auto x = random_normal(n, seed);
            const auto y = random_normal(n, seed + 100);
            const auto xq = quantize(x);
            std::vector<uint8_t> yq(row_bytes(partner(), n));
            partner().quantize_row(y.data(), yq.data(), n);
            const auto xd = dequantize(qt(), xq, n);
            const auto yd = dequantize(partner(), yq, n);

            const float got = qt().vec_dot(n, xq.data(), yq.data());
            EXPECT_EQ(got, vec_dot(qt().type, n, xq.data(), yq.data()));

            double exact = 0.0;
            double magnitude = 0.0;
            double vs_float = 0.0;
            double norm_x = 0.0;
            double norm_y = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                exact += static_cast<double>(xd[i]) * yd[i];
                magnitude += std::fabs(static_cast<double>(xd[i]) * yd[i]);
                vs_float += static_cast<double>(xd[i]) * y[i];
                norm_x += static_cast<double>(xd[i]) * xd[i];
                norm_y += static_cast<double>(y[i]) * y[i];
            }
            // 1. Same numbers as the dequantized rows, up to float rounding: one rounding
            // per block partial and per accumulation (<= 2^-23 each) over n/block blocks.
            // Q8_1's s = d * sum(qs) is stored as fp16 (2^-11 relative), which the min
            // term of Q4_1 / Q5_1 carries: their bound is 4e-3 of the magnitude.
            const double blocks = static_cast<double>(n) / qt().block_size;
            double rtol = (blocks + 2) * 2.4e-7;
            if (partner().type == GgmlType::Q8_1) rtol = 4e-3;
            EXPECT_NEAR(got, exact, rtol * magnitude + 1e-30);
            // 2. Against the float activations: the partner's quantization error bounds
            // the difference by Cauchy-Schwarz, |x.(yq - y)| <= |x| |yq - y|.
            const double cs = std::sqrt(nmse_bound(partner().type) * norm_x * norm_y);
            EXPECT_NEAR(got, vs_float, cs + rtol * magnitude + 1e-30);
        }
    }
}

TEST_P(QuantTypeTest, VecDotOfZeroRowsIsZero) {
    if (qt().vec_dot == nullptr) GTEST_SKIP() << "activation-side only";
    const int64_t n = static_cast<int64_t>(qt().block_size) * 4;
    const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
    const auto x = random_normal(n, 5);
    const auto xq = quantize(zeros);
    std::vector<uint8_t> yq(row_bytes(partner(), n));
    partner().quantize_row(x.data(), yq.data(), n);
    EXPECT_EQ(qt().vec_dot(n, xq.data(), yq.data()), 0.0f);
    const auto xq2 = quantize(x);
    partner().quantize_row(zeros.data(), yq.data(), n);
    EXPECT_EQ(qt().vec_dot(n, xq2.data(), yq.data()), 0.0f);
}

// ---- edges -------------------------------------------------------------------------

TEST_P(QuantTypeTest, ZeroRowRoundTripsToZero) {
    const int64_t n = static_cast<int64_t>(qt().block_size) * 3;
    const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
    const auto q = quantize(zeros);
    const auto y = dequantize(qt(), q, n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 0.0f) << i;
}

TEST_P(QuantTypeTest, ConstantAndSparseRowsStayFinite) {
    // A constant row (max == min for the min-offset types) and a row of one spike.
    const int64_t n = 512;
    for (int pattern = 0; pattern < 2; ++pattern) {
        std::vector<float> x(static_cast<size_t>(n), pattern == 0 ? 0.75f : 0.0f);
        if (pattern == 1) x[37] = -3.0f;
        const auto y = dequantize(qt(), quantize(x), n);
        for (int64_t i = 0; i < n; ++i) {
            ASSERT_TRUE(std::isfinite(y[i])) << "pattern " << pattern << " at " << i;
        }
        EXPECT_LE(nmse(x.data(), y.data(), n), 0.05) << "pattern " << pattern;
    }
}

TEST_P(QuantTypeTest, LargeMagnitudesStayFinite) {
    // Spikes of +-60000 (near the top of fp16, 65504) in every block of N(0, 1000^2):
    // no scale, min or intermediate may overflow. The NMSE check is a sanity bound only:
    // a block holding both spikes quantizes its small values with a step of thousands.
    const int64_t n = 512;
    auto x = random_normal(n, 9, 1000.0f);
    for (int64_t i = 0; i < n; i += 16) {
        x[static_cast<size_t>(i)] = (i % 32 == 0) ? 60000.0f : -60000.0f;
    }
    const auto y = dequantize(qt(), quantize(x), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(y[i])) << i;
    EXPECT_LE(nmse(x.data(), y.data(), n), 0.1);
}

// ---- guard zones and alignment -----------------------------------------------------

TEST_P(QuantTypeTest, OutputsStayInsideTheirRow) {
    for (int64_t blocks : {1, 2, 3, 5, 17}) {
        const int64_t n = blocks * qt().block_size;
        const auto x = random_normal(n, static_cast<uint32_t>(blocks));
        const size_t bytes = row_bytes(qt(), n);
        for (size_t offset : {size_t{0}, size_t{1}, size_t{3}}) {
            SCOPED_TRACE("blocks " + std::to_string(blocks) + " offset " + std::to_string(offset));
            GuardedBuffer q(bytes, offset);
            qt().quantize_row(x.data(), q.data(), n);
            EXPECT_TRUE(q.guards_intact()) << "quantize_row wrote outside its row";

            GuardedBuffer out(static_cast<size_t>(n) * sizeof(float));
            qt().dequantize_row(q.data(), out.floats(), n);
            EXPECT_TRUE(out.guards_intact()) << "dequantize_row wrote outside its row";

            // The same bytes at an aligned address give the same floats.
            std::vector<uint8_t> aligned(q.data(), q.data() + bytes);
            const auto expect = dequantize(qt(), aligned, n);
            EXPECT_EQ(std::memcmp(out.floats(), expect.data(), sizeof(float) * n), 0);
        }
    }
}

TEST_P(QuantTypeTest, VecDotReadsOnlyItsRows) {
    if (qt().vec_dot == nullptr) GTEST_SKIP() << "activation-side only";
    const int64_t n = qt().block_size * 3;
    const auto x = random_normal(n, 21);
    const auto y = random_normal(n, 22);
    // Rows placed right against poisoned guard bytes: reading past them changes nothing
    // only if the kernel stays inside (checked by equality with a clean copy).
    GuardedBuffer xq(row_bytes(qt(), n), 1);
    GuardedBuffer yq(row_bytes(partner(), n), 2);
    qt().quantize_row(x.data(), xq.data(), n);
    partner().quantize_row(y.data(), yq.data(), n);
    std::vector<uint8_t> xc(xq.data(), xq.data() + xq.size());
    std::vector<uint8_t> yc(yq.data(), yq.data() + yq.size());
    EXPECT_EQ(qt().vec_dot(n, xq.data(), yq.data()), qt().vec_dot(n, xc.data(), yc.data()));
    EXPECT_TRUE(xq.guards_intact());
    EXPECT_TRUE(yq.guards_intact());
}

}  // namespace
}  // namespace loom::quant

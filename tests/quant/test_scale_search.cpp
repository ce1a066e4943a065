// The scale searches behind the k-quant and IQ4 reference quantizers: rounding, nearest
// table entry, all-zero groups, and that each search returns levels in range whose
// reconstruction is no worse than plain absmax rounding. (Their bit-exactness with ggml
// is checked through the quantizers by tests/python/test_quant_reference.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/iq4.h"
#include "quant/scale_search.h"
#include "quant_test_util.h"

namespace loom::quant::detail {
namespace {

TEST(ScaleSearch, NearestIntRoundsHalfToEven) {
    EXPECT_EQ(nearest_int(0.5f), 0);
    EXPECT_EQ(nearest_int(1.5f), 2);
    EXPECT_EQ(nearest_int(2.5f), 2);
    EXPECT_EQ(nearest_int(-0.5f), 0);
    EXPECT_EQ(nearest_int(-1.5f), -2);
    EXPECT_EQ(nearest_int(2.4999998f), 2);
    EXPECT_EQ(nearest_int(-7.6f), -8);
    EXPECT_EQ(nearest_int(4194303.0f), 4194303);
    EXPECT_EQ(nearest_int(-4194303.0f), -4194303);
}

TEST(ScaleSearch, BestIndexPicksNearestAndUpperOnTies) {
    const int8_t* v = kIq4nlValues;
    EXPECT_EQ(best_index_int8(16, v, -1000.0f), 0);
    EXPECT_EQ(best_index_int8(16, v, 1000.0f), 15);
    EXPECT_EQ(best_index_int8(16, v, 0.0f), 8);      // 1 is nearer than -10
    EXPECT_EQ(best_index_int8(16, v, -4.5f), 8);     // tie between -10 and 1: upper
    EXPECT_EQ(best_index_int8(16, v, -4.6f), 7);
    EXPECT_EQ(best_index_int8(16, v, 101.0f), 15);   // tie between 89 and 113: upper
    for (int i = 0; i < 16; ++i) EXPECT_EQ(best_index_int8(16, v, v[i]), i);
}

TEST(ScaleSearch, AllZeroGroupsGiveZeroScaleAndLevels) {
    const std::vector<float> zeros(16, 0.0f);
    std::vector<int8_t> levels(16, 7);
    EXPECT_EQ(make_qx_quants(16, 32, zeros.data(), levels.data(), 1, nullptr), 0.0f);
    for (int8_t l : levels) EXPECT_EQ(l, 0);
    levels.assign(16, 7);
    EXPECT_EQ(make_q3_quants(16, 4, zeros.data(), levels.data(), true), 0.0f);
    for (int8_t l : levels) EXPECT_EQ(l, 0);
    std::vector<uint8_t> ul(16, 7);
    std::vector<uint8_t> scratch(16);
    const std::vector<float> weights(16, 1.0f);
    float the_min = -1.0f;
    EXPECT_EQ(make_qkx2_quants(16, 3, zeros.data(), weights.data(), ul.data(), &the_min,
                               scratch.data(), -0.5f, 0.1f, 15, true),
              0.0f);
    EXPECT_EQ(the_min, 0.0f);
    for (uint8_t l : ul) EXPECT_EQ(l, 0);
}

// Squared error of scale * (levels - offset) [- the_min] against x.
double error(const std::vector<float>& x, float scale, const int8_t* levels, int offset) {
    double e = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double d = x[i] - static_cast<double>(scale) * (levels[i] - offset);
        e += d * d;
    }
    return e;
}

TEST(ScaleSearch, SymmetricSearchesBeatPlainAbsmaxRounding) {
    for (uint32_t seed = 0; seed < 20; ++seed) {
        const auto x = test::random_normal(16, seed);
        std::vector<int8_t> plain(16);
        std::vector<int8_t> searched(16);
        const float s0 = make_qx_quants(16, 32, x.data(), plain.data(), 0, nullptr);
        const float s1 = make_qx_quants(16, 32, x.data(), searched.data(), 1, nullptr);
        for (int i = 0; i < 16; ++i) {
            ASSERT_GE(searched[i], 0);
            ASSERT_LE(searched[i], 63);
        }
        // The search weights errors by x^2; compare that weighted error.
        double e0 = 0.0;
        double e1 = 0.0;
        for (int i = 0; i < 16; ++i) {
            const double w = static_cast<double>(x[i]) * x[i];
            const double d0 = x[i] - static_cast<double>(s0) * (plain[i] - 32);
            const double d1 = x[i] - static_cast<double>(s1) * (searched[i] - 32);
            e0 += w * d0 * d0;
            e1 += w * d1 * d1;
        }
        EXPECT_LE(e1, e0 * (1 + 1e-5)) << seed;

        std::vector<int8_t> q3(16);
        const float s3 = make_q3_quants(16, 4, x.data(), q3.data(), true);
        for (int i = 0; i < 16; ++i) {
            ASSERT_GE(q3[i], 0);
            ASSERT_LE(q3[i], 7);
        }
        EXPECT_LT(error(x, s3, q3.data(), 4), error(x, 0.0f, q3.data(), 4)) << seed;
    }
}

TEST(ScaleSearch, AsymmetricSearchKeepsLevelsInRangeAndMinNonNegative) {
    for (uint32_t seed = 0; seed < 20; ++seed) {
        auto x = test::random_normal(32, seed);
        for (auto& v : x) v += 0.5f;  // mostly positive, as after a shift
        std::vector<float> weights(32);
        for (int i = 0; i < 32; ++i) weights[i] = std::fabs(x[i]) + 0.1f;
        std::vector<uint8_t> levels(32);
        std::vector<uint8_t> scratch(32);
        float the_min = 0.0f;
        const float scale = make_qkx2_quants(32, 15, x.data(), weights.data(), levels.data(),
                                             &the_min, scratch.data(), -1.0f, 0.1f, 20, false);
        EXPECT_GT(scale, 0.0f);
        EXPECT_GE(the_min, 0.0f);
        double e = 0.0;
        double norm = 0.0;
        for (int i = 0; i < 32; ++i) {
            ASSERT_LE(levels[i], 15);
            const double d = x[i] - (static_cast<double>(scale) * levels[i] - the_min);
            e += d * d;
            norm += static_cast<double>(x[i]) * x[i];
        }
        EXPECT_LT(e / norm, 0.02) << seed;  // 16 levels over ~6 sigma: step^2/12 ~ 1e-2
    }
}

}  // namespace
}  // namespace loom::quant::detail

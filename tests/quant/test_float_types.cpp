// fp16 and bf16 conversions, exhaustively over all 65536 bit patterns against
// straightforward references written from the IEEE definitions (ldexp of the significand,
// rounding by nearbyint in double), plus the tie and overflow boundaries of fp32 -> fp16
// and fp32 -> bf16 and a million random fp32 patterns; and the F32 / F16 / BF16 rows.
#include <gtest/gtest.h>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "quant/float_types.h"

namespace loom::quant {
namespace {

// fp16 -> double from the definition: (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m.
double ref_fp16_value(uint16_t h) {
    const int sign = h >> 15;
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    double v = 0.0;
    if (exponent == 31) {
        v = mantissa == 0 ? std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::quiet_NaN();
    } else if (exponent == 0) {
        v = std::ldexp(static_cast<double>(mantissa), -24);
    } else {
        v = std::ldexp(static_cast<double>(1024 + mantissa), exponent - 25);
    }
    return sign ? -v : v;
}

// fp32 -> fp16 bits, round to nearest even, by rescaling in double (exact for any fp32)
// and nearbyint in the default rounding mode. NaN handled by the caller.
uint16_t ref_fp32_to_fp16(float f) {
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double a = std::fabs(static_cast<double>(f));
    if (std::isinf(a) || a >= 65520.0) return sign | 0x7c00;
    if (a < std::ldexp(1.0, -14)) {
        // Subnormal range: multiples of 2^-24; 1024 * 2^-24 is the smallest normal.
        const auto steps = static_cast<uint16_t>(std::nearbyint(std::ldexp(a, 24)));
        return static_cast<uint16_t>(sign | steps);
    }
    const int e = std::ilogb(a);                               // 2^e <= a < 2^(e+1)
    const double steps = std::nearbyint(std::ldexp(a, 10 - e));  // in [1024, 2048]
    int exponent = e + 15;
    int mantissa = static_cast<int>(steps) - 1024;
    if (mantissa == 1024) {
        mantissa = 0;
        ++exponent;
    }
    if (exponent >= 31) return sign | 0x7c00;
    return static_cast<uint16_t>(sign | (exponent << 10) | mantissa);
}

uint16_t ref_fp32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    // Keep the top 16 bits, round the dropped 16 to nearest even (in 64-bit, no wrap).
    const uint64_t top = x >> 16;
    const uint32_t rest = x & 0xffff;
    const uint64_t rounded = (rest > 0x8000 || (rest == 0x8000 && (top & 1))) ? top + 1 : top;
    return static_cast<uint16_t>(rounded);
}

bool is_nan16(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

TEST(Fp16, ToFp32ExhaustiveMatchesDefinition) {
    ASSERT_EQ(std::fegetround(), FE_TONEAREST);
    for (uint32_t h = 0; h < 65536; ++h) {
        const float got = fp16_to_fp32(static_cast<uint16_t>(h));
        const double want = ref_fp16_value(static_cast<uint16_t>(h));
        const uint32_t bits = std::bit_cast<uint32_t>(got);
        ASSERT_EQ(bits >> 31, h >> 15) << std::hex << h;
        if (is_nan16(static_cast<uint16_t>(h))) {
            ASSERT_TRUE(std::isnan(got)) << std::hex << h;
            // Quiet (bit 22 set), payload kept.
            ASSERT_EQ((bits >> 13) & 0x3ff, (h & 0x3ff) | 0x200) << "payload " << std::hex << h;
        } else {
            ASSERT_EQ(static_cast<double>(got), want) << std::hex << h;
        }
    }
}

TEST(Fp16, RoundTripExhaustive) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const auto h16 = static_cast<uint16_t>(h);
        const uint16_t back = fp32_to_fp16(fp16_to_fp32(h16));
        if (is_nan16(h16)) {
            EXPECT_EQ(back, h16 | 0x0200) << "NaN made quiet, payload kept " << std::hex << h;
        } else {
            ASSERT_EQ(back, h16) << std::hex << h;
        }
    }
}

TEST(Fp16, FromFp32TiesAndNeighboursExhaustive) {
    // Between every two neighbouring finite fp16 values of the same sign: the midpoint
    // rounds to the even one, one fp32 ulp off it rounds to the nearer one.
    for (uint32_t h = 0; h < 0x7bff; ++h) {
        for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
            const auto lo = static_cast<uint16_t>(h | sign);
            const auto hi = static_cast<uint16_t>((h + 1) | sign);
            const float a = fp16_to_fp32(lo);
            const float b = fp16_to_fp32(hi);
            const auto mid = static_cast<float>((static_cast<double>(a) + b) / 2);
            ASSERT_EQ(static_cast<double>(mid), (static_cast<double>(a) + b) / 2) << "not exact";
            const uint16_t even = (lo & 1) == 0 ? lo : hi;
            ASSERT_EQ(fp32_to_fp16(mid), even) << std::hex << h;
            ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, a)), lo) << std::hex << h;
            ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, b)), hi) << std::hex << h;
            ASSERT_EQ(ref_fp32_to_fp16(mid), even);
        }
    }
}

TEST(Fp16, FromFp32OverflowUnderflowAndSpecials) {
    EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
    EXPECT_EQ(fp32_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7bff);
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // the tie above the largest rounds to inf
    EXPECT_EQ(fp32_to_fp16(-1e10f), 0xfc00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::infinity()), 0x7c00);
    EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
    EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
    EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);   // smallest subnormal
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);   // tie with 0: even
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
    EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);   // tie 1|2: even
    EXPECT_EQ(fp32_to_fp16(-std::ldexp(1.0f, -30)), 0x8000);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000);
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);  // rounds up to min normal
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
    EXPECT_EQ(fp32_to_fp16(std::bit_cast<float>(0xff800001u)), 0xfe00);  // sNaN made quiet
}

TEST(Fp16, FromFp32RandomMatchesReference) {
    std::mt19937 rng(1234);
    for (int i = 0; i < 1000000; ++i) {
        const auto bits = static_cast<uint32_t>(rng());
        const float f = std::bit_cast<float>(bits);
        if (std::isnan(f)) continue;
        ASSERT_EQ(fp32_to_fp16(f), ref_fp32_to_fp16(f)) << std::hex << bits;
    }
    // Every fp32 exponent that meets the fp16 range, with random significands.
    for (int e = -30; e <= 17; ++e) {
        for (int i = 0; i < 2000; ++i) {
            const float f = std::ldexp(1.0f + static_cast<float>(rng() & 0x7fffff) / 8388608.0f, e);
            ASSERT_EQ(fp32_to_fp16(f), ref_fp32_to_fp16(f)) << f;
            ASSERT_EQ(fp32_to_fp16(-f), ref_fp32_to_fp16(-f)) << -f;
        }
    }
}

TEST(Bf16, ExhaustiveRoundTripAndTies) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const auto h16 = static_cast<uint16_t>(h);
        const float f = bf16_to_fp32(h16);
        ASSERT_EQ(std::bit_cast<uint32_t>(f), h << 16);
        const bool nan = (h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0;
        if (nan) {
            ASSERT_EQ(fp32_to_bf16(f), h16 | 0x40) << std::hex << h;
            continue;
        }
        ASSERT_EQ(fp32_to_bf16(f), h16) << std::hex << h;
        if ((h & 0x7f80) == 0x7f80) continue;  // infinity: no neighbour above
        // Below the next bf16 value: exact tie to even, and one ulp either side.
        for (uint32_t low : {0x7fffu, 0x8000u, 0x8001u, 0x0001u, 0xffffu}) {
            const float g = std::bit_cast<float>((h << 16) | low);
            ASSERT_EQ(fp32_to_bf16(g), ref_fp32_to_bf16(g)) << std::hex << h << " " << low;
        }
    }
}

TEST(Bf16, RandomMatchesReference) {
    std::mt19937 rng(99);
    for (int i = 0; i < 1000000; ++i) {
        const auto bits = static_cast<uint32_t>(rng());
        const float f = std::bit_cast<float>(bits);
        if (std::isnan(f)) {
            EXPECT_EQ(fp32_to_bf16(f), static_cast<uint16_t>((bits >> 16) | 0x40));
            continue;
        }
        ASSERT_EQ(fp32_to_bf16(f), ref_fp32_to_bf16(f)) << std::hex << bits;
    }
    EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7f7fffffu)), 0x7f80);  // max float -> inf
}

TEST(FloatRows, DequantizeAndQuantizeConvertEachElement) {
    const std::vector<float> x = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 1e-7f, 3.14159f, 1e30f};
    const auto n = static_cast<int64_t>(x.size());
    std::vector<uint16_t> h(x.size());
    std::vector<float> back(x.size());
    quantize_row_f16(x.data(), h.data(), n);
    dequantize_row_f16(h.data(), back.data(), n);
    for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(h[i], fp32_to_fp16(x[i]));
        EXPECT_EQ(back[i], fp16_to_fp32(h[i]));
    }
    quantize_row_bf16(x.data(), h.data(), n);
    dequantize_row_bf16(h.data(), back.data(), n);
    for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(h[i], fp32_to_bf16(x[i]));
        EXPECT_EQ(back[i], bf16_to_fp32(h[i]));
    }
    std::vector<float> copy(x.size());
    quantize_row_f32(x.data(), copy.data(), n);
    EXPECT_EQ(std::memcmp(copy.data(), x.data(), x.size() * sizeof(float)), 0);
}

TEST(FloatRows, DotSumsFloatProductsInDouble) {
    // 2^24 + 1 + 1 - 2^24: a float accumulator would lose the ones, ggml's double does not.
    const std::vector<float> x = {16777216.0f, 1.0f, 1.0f, -16777216.0f};
    const std::vector<float> ones(4, 1.0f);
    EXPECT_EQ(vec_dot_f32(4, x.data(), ones.data()), 2.0f);
    std::vector<uint16_t> xb(4);
    std::vector<uint16_t> yb(4);
    quantize_row_bf16(x.data(), xb.data(), 4);
    quantize_row_bf16(ones.data(), yb.data(), 4);
    EXPECT_EQ(vec_dot_bf16(4, xb.data(), yb.data()), 2.0f);
    const std::vector<float> small = {2048.0f, 0.5f, 0.5f, -2048.0f};
    quantize_row_f16(small.data(), xb.data(), 4);
    quantize_row_f16(ones.data(), yb.data(), 4);
    EXPECT_EQ(vec_dot_f16(4, xb.data(), yb.data()), 1.0f);
}

}  // namespace
}  // namespace loom::quant

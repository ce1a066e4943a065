// IQ4_NL and IQ4_XS: dequantize of hand-written blocks, random blocks against the
// per-weight formula of the format description (shared/research/inference.md section 2),
// the level table, quantize of rows that sit exactly on the grid, and dots by hand.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "quant/float_types.h"
#include "quant/iq4.h"
#include "quant/k_quants.h"
#include "quant/q_legacy.h"
#include "quant_test_util.h"

namespace loom::quant {
namespace {

constexpr uint16_t kHalf = 0x3800;
constexpr uint16_t kOne = 0x3c00;

TEST(Iq4, LevelTableIsSortedAndAsPublished) {
    const int8_t expected[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                 1,    13,   25,  38,  53,  69,  89,  113};
    for (int i = 0; i < 16; ++i) EXPECT_EQ(kIq4nlValues[i], expected[i]);
    for (int i = 1; i < 16; ++i) EXPECT_LT(kIq4nlValues[i - 1], kIq4nlValues[i]);
}

TEST(IQ4_NL, HandWrittenBlock) {
    BlockIQ4_NL b{};
    b.d = kHalf;
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    std::vector<float> x(32);
    dequantize_row_iq4_nl(&b, x.data(), 32);
    EXPECT_EQ(x[0], -63.5f);   // 0.5 * -127
    EXPECT_EQ(x[8], 0.5f);     // 0.5 * 1
    EXPECT_EQ(x[15], 56.5f);   // 0.5 * 113
    EXPECT_EQ(x[16], 56.5f);   // high nibble of byte 0 is 15
    EXPECT_EQ(x[31], -63.5f);
}

TEST(IQ4_XS, HandWrittenBlock) {
    BlockIQ4_XS b{};
    b.d = kHalf;
    // Sub-block ib gets the 6-bit scale 32 + ib (so ls - 32 = ib): low nibble ib, high
    // 2 bits 0b10 for each of the 8 sub-blocks.
    for (int k = 0; k < 4; ++k) {
        b.scales_l[k] = static_cast<uint8_t>((2 * k) | ((2 * k + 1) << 4));
    }
    b.scales_h = 0xaaaa;
    for (int i = 0; i < 128; ++i) {
        b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
    }
    std::vector<float> x(256);
    dequantize_row_iq4_xs(&b, x.data(), 256);
    for (int ib = 0; ib < 8; ++ib) {
        for (int j = 0; j < 16; ++j) {
            const float dl = 0.5f * static_cast<float>(ib);
            ASSERT_EQ(x[32 * ib + j], dl * kIq4nlValues[j]) << ib << " " << j;
            ASSERT_EQ(x[32 * ib + 16 + j], dl * kIq4nlValues[15 - j]) << ib << " " << j;
        }
    }
}

TEST(Iq4, RandomBlocksMatchTheFormat) {
    constexpr size_t kBlocks = 32;
    {
        const auto bytes = test::random_bytes(kBlocks * sizeof(BlockIQ4_NL), 1);
        std::vector<BlockIQ4_NL> blocks(kBlocks);
        std::memcpy(blocks.data(), bytes.data(), bytes.size());
        const auto d = test::random_normal(kBlocks, 2, 0.01f);
        for (size_t i = 0; i < kBlocks; ++i) blocks[i].d = fp32_to_fp16(d[i]);
        std::vector<float> x(kBlocks * 32);
        dequantize_row_iq4_nl(blocks.data(), x.data(), static_cast<int64_t>(x.size()));
        for (size_t i = 0; i < kBlocks; ++i) {
            for (int j = 0; j < 32; ++j) {
                const int q = (blocks[i].qs[j % 16] >> (4 * (j / 16))) & 15;
                ASSERT_EQ(x[i * 32 + j], fp16_to_fp32(blocks[i].d) * kIq4nlValues[q]);
            }
        }
    }
    {
        const size_t n_blocks = kBlocks / 4;
        const auto bytes = test::random_bytes(n_blocks * sizeof(BlockIQ4_XS), 3);
        std::vector<BlockIQ4_XS> blocks(n_blocks);
        std::memcpy(blocks.data(), bytes.data(), bytes.size());
        const auto d = test::random_normal(static_cast<int64_t>(n_blocks), 4, 0.01f);
        for (size_t i = 0; i < n_blocks; ++i) blocks[i].d = fp32_to_fp16(d[i]);
        std::vector<float> x(n_blocks * 256);
        dequantize_row_iq4_xs(blocks.data(), x.data(), static_cast<int64_t>(x.size()));
        for (size_t i = 0; i < n_blocks; ++i) {
            const auto& b = blocks[i];
            for (int w = 0; w < 256; ++w) {
                const int ib = w / 32;
                const int r = w % 32;
                const int q = (b.qs[16 * ib + r % 16] >> (4 * (r / 16))) & 15;
                const int ls = ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 15) |
                               (((b.scales_h >> (2 * ib)) & 3) << 4);
                const float dl = fp16_to_fp32(b.d) * static_cast<float>(ls - 32);
                ASSERT_EQ(x[i * 256 + w], dl * kIq4nlValues[q]) << i << " " << w;
            }
        }
    }
}

TEST(IQ4_NL, QuantizeRowOnTheGrid) {
    // A row that is exactly d * levels with the largest level present is stored exactly.
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j) x[j] = 0.5f * kIq4nlValues[j % 16];
    BlockIQ4_NL b{};
    quantize_row_iq4_nl(x.data(), &b, 32);
    std::vector<float> y(32);
    dequantize_row_iq4_nl(&b, y.data(), 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]) << j;
}

TEST(Iq4, DotsAreIntegerSumsTimesScales) {
    BlockIQ4_NL x{};
    x.d = kHalf;
    for (int j = 0; j < 16; ++j) x.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    BlockQ8_0 y{};
    y.d = kOne;
    for (int j = 0; j < 32; ++j) y.qs[j] = static_cast<int8_t>(j - 16);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += (j - 16) * kIq4nlValues[j] + j * kIq4nlValues[15 - j];
    EXPECT_EQ(vec_dot_iq4_nl_q8_0(32, &x, &y), 0.5f * static_cast<float>(sumi));

    BlockIQ4_XS xs{};
    xs.d = kOne;
    for (int k = 0; k < 4; ++k) xs.scales_l[k] = 0x11;  // every 6-bit scale 33 -> 1
    xs.scales_h = 0xaaaa;
    std::memset(xs.qs, 0x88, 128);                        // level 1 everywhere
    BlockQ8_K z{};
    z.d = 0.5f;
    std::memset(z.qs, 3, 256);
    EXPECT_EQ(vec_dot_iq4_xs_q8_K(256, &xs, &z), 0.5f * 256.0f * 3.0f);
}

}  // namespace
}  // namespace loom::quant

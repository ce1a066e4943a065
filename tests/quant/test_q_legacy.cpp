// Legacy block quants (Q4_0 ... Q8_1): dequantize of hand-written blocks with values
// worked out by hand, dequantize of random blocks against a per-weight formula written
// from the format description (shared/research/inference.md section 2), quantize of rows
// that are exactly representable, and dots against the integer sums by hand.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <vector>

#include "quant/float_types.h"
#include "quant/q_legacy.h"
#include "quant_test_util.h"

namespace loom::quant {
namespace {

constexpr uint16_t kHalf = 0x3800;     // fp16 0.5
constexpr uint16_t kQuarter = 0x3400;  // fp16 0.25
constexpr uint16_t kOne = 0x3c00;      // fp16 1.0
constexpr uint16_t kMinusOne = 0xbc00;

template <typename Block>
std::vector<float> dequant(void (*fn)(const void*, float*, int64_t) noexcept,
                           const std::vector<Block>& blocks) {
    std::vector<float> out(blocks.size() * 32);
    fn(blocks.data(), out.data(), static_cast<int64_t>(out.size()));
    return out;
}

// Random blocks with finite fp16 scales of either sign (the quants' bytes are all valid).
template <typename Block>
std::vector<Block> random_blocks(size_t count, uint32_t seed) {
    auto bytes = test::random_bytes(count * sizeof(Block), seed);
    std::vector<Block> blocks(count);
    std::memcpy(blocks.data(), bytes.data(), bytes.size());
    const auto scales = test::random_normal(static_cast<int64_t>(count) * 2, seed + 1);
    for (size_t i = 0; i < count; ++i) {
        if constexpr (requires(Block b) { b.m; }) {
            blocks[i].m = fp32_to_fp16(scales[2 * i + 1]);
        }
        blocks[i].d = fp32_to_fp16(scales[2 * i]);
    }
    return blocks;
}

int nibble(const uint8_t* qs, int j) { return (qs[j % 16] >> (4 * (j / 16))) & 0x0f; }

int high_bit(const uint8_t (&qh)[4], int j) {
    uint32_t v;
    std::memcpy(&v, qh, 4);
    return (v >> j) & 1;
}

TEST(Q4_0, HandWrittenBlock) {
    BlockQ4_0 b{};
    b.d = kHalf;
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto x = dequant(dequantize_row_q4_0, std::vector{b});
    EXPECT_EQ(x[0], -4.0f);   // (0 - 8) * 0.5
    EXPECT_EQ(x[8], 0.0f);
    EXPECT_EQ(x[15], 3.5f);   // (15 - 8) * 0.5
    EXPECT_EQ(x[16], 3.5f);   // high nibble of byte 0 is 15
    EXPECT_EQ(x[31], -4.0f);
}

TEST(Q4_1, HandWrittenBlock) {
    BlockQ4_1 b{};
    b.d = kHalf;
    b.m = kMinusOne;
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto x = dequant(dequantize_row_q4_1, std::vector{b});
    EXPECT_EQ(x[0], -1.0f);  // 0 * 0.5 - 1
    EXPECT_EQ(x[15], 6.5f);  // 15 * 0.5 - 1
    EXPECT_EQ(x[16], 6.5f);
    EXPECT_EQ(x[31], -1.0f);
}

TEST(Q5_0, HandWrittenBlock) {
    BlockQ5_0 b{};
    b.d = kOne;
    const uint32_t qh = 0x80000001u;  // 5th bit of weights 0 and 31
    std::memcpy(b.qh, &qh, 4);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto x = dequant(dequantize_row_q5_0, std::vector{b});
    EXPECT_EQ(x[0], 0.0f);     // (0 | 16) - 16
    EXPECT_EQ(x[1], -15.0f);   // 1 - 16
    EXPECT_EQ(x[15], -1.0f);
    EXPECT_EQ(x[16], -1.0f);   // 15 - 16
    EXPECT_EQ(x[31], 0.0f);    // (0 | 16) - 16
}

TEST(Q5_1, HandWrittenBlock) {
    BlockQ5_1 b{};
    b.d = kQuarter;
    b.m = kOne;
    const uint32_t qh = 0xffffffffu;
    std::memcpy(b.qh, &qh, 4);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto x = dequant(dequantize_row_q5_1, std::vector{b});
    EXPECT_EQ(x[0], 5.0f);       // 16 * 0.25 + 1
    EXPECT_EQ(x[15], 8.75f);     // 31 * 0.25 + 1
    EXPECT_EQ(x[31], 5.0f);
}

TEST(Q8_0AndQ8_1, HandWrittenBlocks) {
    BlockQ8_0 b{};
    b.d = kHalf;
    for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
    const auto x = dequant(dequantize_row_q8_0, std::vector{b});
    EXPECT_EQ(x[0], -64.0f);
    EXPECT_EQ(x[31], 60.0f);  // (248 - 128) * 0.5
    BlockQ8_1 c{};
    c.d = kHalf;
    std::memcpy(c.qs, b.qs, 32);
    const auto y = dequant(dequantize_row_q8_1, std::vector{c});
    EXPECT_EQ(std::memcmp(x.data(), y.data(), 32 * sizeof(float)), 0);
}

TEST(Q4_0, MaxScaleBlock) {
    BlockQ4_0 b{};
    b.d = 0x7bff;  // 65504, the largest finite fp16
    std::memset(b.qs, 0x00, 16);
    auto x = dequant(dequantize_row_q4_0, std::vector{b});
    EXPECT_EQ(x[0], -524032.0f);  // -8 * 65504
    std::memset(b.qs, 0xff, 16);
    x = dequant(dequantize_row_q4_0, std::vector{b});
    EXPECT_EQ(x[31], 458528.0f);  // 7 * 65504
}

TEST(LegacyQuants, RandomBlocksMatchTheFormat) {
    constexpr size_t kBlocks = 64;
    {
        const auto blocks = random_blocks<BlockQ4_0>(kBlocks, 1);
        const auto x = dequant(dequantize_row_q4_0, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const float d = fp16_to_fp32(blocks[i].d);
            for (int j = 0; j < 32; ++j) {
                ASSERT_EQ(x[i * 32 + j], static_cast<float>(nibble(blocks[i].qs, j) - 8) * d);
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ4_1>(kBlocks, 2);
        const auto x = dequant(dequantize_row_q4_1, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const float d = fp16_to_fp32(blocks[i].d);
            const float m = fp16_to_fp32(blocks[i].m);
            for (int j = 0; j < 32; ++j) {
                ASSERT_EQ(x[i * 32 + j], static_cast<float>(nibble(blocks[i].qs, j)) * d + m);
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ5_0>(kBlocks, 3);
        const auto x = dequant(dequantize_row_q5_0, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const float d = fp16_to_fp32(blocks[i].d);
            for (int j = 0; j < 32; ++j) {
                const int q = nibble(blocks[i].qs, j) | (high_bit(blocks[i].qh, j) << 4);
                ASSERT_EQ(x[i * 32 + j], static_cast<float>(q - 16) * d);
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ5_1>(kBlocks, 4);
        const auto x = dequant(dequantize_row_q5_1, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const float d = fp16_to_fp32(blocks[i].d);
            const float m = fp16_to_fp32(blocks[i].m);
            for (int j = 0; j < 32; ++j) {
                const int q = nibble(blocks[i].qs, j) | (high_bit(blocks[i].qh, j) << 4);
                ASSERT_EQ(x[i * 32 + j], static_cast<float>(q) * d + m);
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ8_0>(kBlocks, 5);
        const auto x = dequant(dequantize_row_q8_0, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const float d = fp16_to_fp32(blocks[i].d);
            for (int j = 0; j < 32; ++j) {
                ASSERT_EQ(x[i * 32 + j], static_cast<float>(blocks[i].qs[j]) * d);
            }
        }
    }
}

// Rows that each quantizer represents exactly: the blocks come out as worked by hand.
TEST(LegacyQuants, QuantizeExactlyRepresentableRows) {
    std::vector<float> x(32);
    {
        for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8) * 0.5f;
        BlockQ4_0 b{};
        quantize_row_q4_0(x.data(), &b, 32);
        EXPECT_EQ(b.d, kHalf);  // max is the first -4: d = -4 / -8
        for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;
    }
    {
        for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16) * 0.25f + 1.0f;
        BlockQ4_1 b{};
        quantize_row_q4_1(x.data(), &b, 32);
        EXPECT_EQ(b.d, kQuarter);
        EXPECT_EQ(b.m, kOne);
        for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;
    }
    {
        for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) * 0.25f;
        BlockQ5_0 b{};
        quantize_row_q5_0(x.data(), &b, 32);
        EXPECT_EQ(b.d, kQuarter);  // max is the first -4: d = -4 / -16
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        EXPECT_EQ(qh, 0xffff0000u);
        for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;
    }
    {
        for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) * 0.5f - 2.0f;
        BlockQ5_1 b{};
        quantize_row_q5_1(x.data(), &b, 32);
        EXPECT_EQ(b.d, kHalf);
        EXPECT_EQ(b.m, fp32_to_fp16(-2.0f));
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        EXPECT_EQ(qh, 0xffff0000u);
    }
    {
        for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j);
        x[0] = 127.0f;
        BlockQ8_0 b{};
        quantize_row_q8_0(x.data(), &b, 32);
        EXPECT_EQ(b.d, kOne);
        for (int j = 0; j < 32; ++j) EXPECT_EQ(b.qs[j], static_cast<int8_t>(x[j]));
        BlockQ8_1 c{};
        quantize_row_q8_1(x.data(), &c, 32);
        EXPECT_EQ(c.d, kOne);
        EXPECT_EQ(c.s, fp32_to_fp16(623.0f));  // 127 + (1 + ... + 31)
    }
}

TEST(LegacyQuants, Q8_0RoundsHalfAwayFromZero) {
    // roundf, as ggml's reference: 0.5 -> 1 and -0.5 -> -1 (not to even).
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f;  // d = 1
    x[1] = 0.5f;
    x[2] = -0.5f;
    x[3] = 2.5f;
    BlockQ8_0 b{};
    quantize_row_q8_0(x.data(), &b, 32);
    EXPECT_EQ(b.qs[1], 1);
    EXPECT_EQ(b.qs[2], -1);
    EXPECT_EQ(b.qs[3], 3);
}

TEST(LegacyQuants, DotsAreIntegerSumsTimesScales) {
    BlockQ4_0 x4{};
    x4.d = kHalf;
    for (int j = 0; j < 16; ++j) x4.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    BlockQ8_0 y8{};
    y8.d = 0x4000;  // 2.0
    for (int j = 0; j < 32; ++j) y8.qs[j] = static_cast<int8_t>(j);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += (j - 8) * j + (7 - j) * (j + 16);
    EXPECT_EQ(vec_dot_q4_0_q8_0(32, &x4, &y8), static_cast<float>(sumi) * 0.5f * 2.0f);

    BlockQ8_0 x8{};
    x8.d = kQuarter;
    for (int j = 0; j < 32; ++j) x8.qs[j] = static_cast<int8_t>(-j);
    int sum8 = 0;
    for (int j = 0; j < 32; ++j) sum8 += -j * j;
    EXPECT_EQ(vec_dot_q8_0_q8_0(32, &x8, &y8), static_cast<float>(sum8) * 0.5f);

    // Q4_1 with Q8_1: d_x d_y sum(q_x q_y) + m_x s_y.
    BlockQ4_1 x41{};
    x41.d = kHalf;
    x41.m = kMinusOne;
    for (int j = 0; j < 16; ++j) x41.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    BlockQ8_1 y81{};
    y81.d = 0x4000;
    y81.s = fp32_to_fp16(100.0f);
    for (int j = 0; j < 32; ++j) y81.qs[j] = static_cast<int8_t>(j);
    int sum41 = 0;
    for (int j = 0; j < 16; ++j) sum41 += j * j + (15 - j) * (j + 16);
    EXPECT_EQ(vec_dot_q4_1_q8_1(32, &x41, &y81), 1.0f * static_cast<float>(sum41) - 100.0f);
}

}  // namespace
}  // namespace loom::quant

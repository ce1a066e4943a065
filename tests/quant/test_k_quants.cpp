// K-quants (Q2_K ... Q6_K, Q8_K): dequantize of hand-written super-blocks with values
// worked out by hand, dequantize of random blocks against a per-weight formula written
// from the format description (shared/research/inference.md section 2: which byte, which
// bits, which scale each weight uses), largest scales, the scale packing round trip, and
// dots against integer sums by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "quant/float_types.h"
#include "quant/k_quants.h"
#include "quant_test_util.h"

namespace loom::quant {
namespace {

constexpr uint16_t kHalf = 0x3800;
constexpr uint16_t kOne = 0x3c00;
constexpr uint16_t kMaxHalf = 0x7bff;  // 65504

template <typename Block>
std::vector<float> dequant(void (*fn)(const void*, float*, int64_t) noexcept,
                           const std::vector<Block>& blocks) {
    std::vector<float> out(blocks.size() * 256);
    fn(blocks.data(), out.data(), static_cast<int64_t>(out.size()));
    return out;
}

template <typename Block>
std::vector<Block> random_blocks(size_t count, uint32_t seed) {
    const auto bytes = test::random_bytes(count * sizeof(Block), seed);
    std::vector<Block> blocks(count);
    std::memcpy(blocks.data(), bytes.data(), bytes.size());
    const auto scales = test::random_normal(static_cast<int64_t>(count) * 2, seed + 1, 0.01f);
    for (size_t i = 0; i < count; ++i) {
        blocks[i].d = fp32_to_fp16(scales[2 * i]);
        if constexpr (requires(Block b) { b.dmin; }) {
            blocks[i].dmin = fp32_to_fp16(scales[2 * i + 1]);
        }
    }
    return blocks;
}

// Scale and min of sub-block k (0..7) of Q4_K / Q5_K, decoded bit by bit from the
// description: k < 4: low 6 bits of bytes k and k+4; k >= 4: a nibble of byte k+4 and the
// top 2 bits of bytes k-4 (scale) and k (min).
void scale_min(const uint8_t* s, int k, int& scale, int& min) {
    if (k < 4) {
        scale = s[k] & 63;
        min = s[k + 4] & 63;
    } else {
        scale = (s[k + 4] & 15) | ((s[k - 4] >> 6) << 4);
        min = (s[k + 4] >> 4) | ((s[k] >> 6) << 4);
    }
}

TEST(Q2_K, HandWrittenBlock) {
    BlockQ2_K b{};
    b.d = kOne;
    b.dmin = kHalf;
    std::memset(b.scales, 0x21, 16);  // scale 1, min 2
    std::memset(b.qs, 0xe4, 64);      // 0b11'10'01'00: the 2-bit field at shift 2s holds s
    const auto x = dequant(dequantize_row_q2_K, std::vector{b});
    for (int w = 0; w < 256; ++w) {
        // Weight w takes its 2 bits from shift 2 * ((w % 128) / 32): x = 1 * s - 0.5 * 2.
        ASSERT_EQ(x[w], static_cast<float>((w % 128) / 32) - 1.0f) << w;
    }
}

TEST(Q3_K, HandWrittenBlock) {
    BlockQ3_K b{};
    b.d = kOne;
    // Every 6-bit scale 33 (0b10'0001 -> 33 - 32 = 1): nibble 1 everywhere, 2-bit fields 2.
    std::memset(b.scales, 0x11, 8);
    std::memset(b.scales + 8, 0xaa, 4);
    std::memset(b.qs, 0xe4, 64);
    std::memset(b.hmask, 0xff, 32);  // high bit set: no -4
    auto x = dequant(dequantize_row_q3_K, std::vector{b});
    for (int w = 0; w < 256; ++w) ASSERT_EQ(x[w], static_cast<float>((w % 128) / 32)) << w;
    std::memset(b.hmask, 0x00, 32);
    x = dequant(dequantize_row_q3_K, std::vector{b});
    for (int w = 0; w < 256; ++w) ASSERT_EQ(x[w], static_cast<float>((w % 128) / 32 - 4)) << w;
    for (int j = 0; j < 16; ++j) EXPECT_EQ(q3_K_scale(b.scales, j), 33);
}

TEST(Q4_K, HandWrittenBlock) {
    BlockQ4_K b{};
    b.d = kOne;
    b.dmin = kOne;
    // Sub-block k: scale k + 1, min k (all below 16, so no high bits).
    const uint8_t scales[12] = {1, 2, 3, 4, 0, 1, 2, 3, 5 | 4 << 4, 6 | 5 << 4, 7 | 6 << 4,
                                8 | 7 << 4};
    std::memcpy(b.scales, scales, 12);
    for (int i = 0; i < 128; ++i) {
        b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
    }
    const auto x = dequant(dequantize_row_q4_K, std::vector{b});
    for (int w = 0; w < 256; ++w) {
        const int r = w % 32;
        const int q = (w % 64) < 32 ? r % 16 : 15 - r % 16;  // low nibbles, then high
        const int k = w / 32;
        ASSERT_EQ(x[w], static_cast<float>((k + 1) * q - k)) << w;
    }
}

TEST(Q5_K, HandWrittenBlock) {
    BlockQ5_K b{};
    b.d = kHalf;
    b.dmin = kOne;
    const uint8_t scales[12] = {2, 2, 2, 2, 1, 1, 1, 1, 2 | 1 << 4, 2 | 1 << 4, 2 | 1 << 4,
                                2 | 1 << 4};  // every scale 2, every min 1
    std::memcpy(b.scales, scales, 12);
    std::memset(b.qs, 0x00, 128);
    std::memset(b.qh, 0x55, 32);  // bits 0, 2, 4, 6: the low-nibble half of each 64
    const auto x = dequant(dequantize_row_q5_K, std::vector{b});
    for (int w = 0; w < 256; ++w) {
        const int q = (w % 64) < 32 ? 16 : 0;
        ASSERT_EQ(x[w], 0.5f * 2.0f * static_cast<float>(q) - 1.0f) << w;
    }
}

TEST(Q6_K, HandWrittenBlock) {
    BlockQ6_K b{};
    b.d = kHalf;
    for (int k = 0; k < 16; ++k) b.scales[k] = static_cast<int8_t>(k - 8);
    auto x = dequant(dequantize_row_q6_K, std::vector{b});  // q = 0: x = 0.5 * sc * -32
    for (int w = 0; w < 256; ++w) ASSERT_EQ(x[w], -16.0f * static_cast<float>(w / 16 - 8)) << w;
    std::memset(b.ql, 0xff, 128);
    std::memset(b.qh, 0xff, 64);  // q = 63: x = 0.5 * sc * 31
    x = dequant(dequantize_row_q6_K, std::vector{b});
    for (int w = 0; w < 256; ++w) ASSERT_EQ(x[w], 15.5f * static_cast<float>(w / 16 - 8)) << w;
}

TEST(Q8_K, HandWrittenBlock) {
    BlockQ8_K b{};
    b.d = 0.25f;
    for (int j = 0; j < 256; ++j) b.qs[j] = static_cast<int8_t>(j - 128);
    const auto x = dequant(dequantize_row_q8_K, std::vector{b});
    for (int j = 0; j < 256; ++j) ASSERT_EQ(x[j], 0.25f * static_cast<float>(j - 128));
}

TEST(KQuants, LargestScales) {
    // Every 6-bit scale and min 63, d = dmin = 65504: finite, as worked out.
    BlockQ4_K b{};
    b.d = kMaxHalf;
    b.dmin = kMaxHalf;
    std::memset(b.scales, 0xff, 12);
    std::memset(b.qs, 0xff, 128);
    for (int k = 0; k < 8; ++k) {
        uint8_t sc = 0;
        uint8_t m = 0;
        get_scale_min_k4(k, b.scales, sc, m);
        EXPECT_EQ(sc, 63);
        EXPECT_EQ(m, 63);
    }
    const auto x = dequant(dequantize_row_q4_K, std::vector{b});
    const float d1 = 65504.0f * 63.0f;
    for (int w = 0; w < 256; ++w) ASSERT_EQ(x[w], d1 * 15.0f - d1);

    BlockQ6_K c{};
    c.d = kMaxHalf;
    std::memset(c.scales, 0x80, 16);  // -128
    const auto y = dequant(dequantize_row_q6_K, std::vector{c});
    for (int w = 0; w < 256; ++w) ASSERT_EQ(y[w], 65504.0f * -128.0f * -32.0f);
}

TEST(KQuants, RandomBlocksMatchTheFormat) {
    constexpr size_t kBlocks = 16;
    {
        const auto blocks = random_blocks<BlockQ2_K>(kBlocks, 1);
        const auto x = dequant(dequantize_row_q2_K, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const auto& b = blocks[i];
            for (int w = 0; w < 256; ++w) {
                const int s = (w % 128) / 32;
                const int q = (b.qs[32 * (w / 128) + w % 32] >> (2 * s)) & 3;
                const int sc = b.scales[w / 16];
                const float dl = fp16_to_fp32(b.d) * static_cast<float>(sc & 15);
                const float ml = fp16_to_fp32(b.dmin) * static_cast<float>(sc >> 4);
                ASSERT_EQ(x[i * 256 + w], dl * static_cast<float>(q) - ml) << i << " " << w;
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ3_K>(kBlocks, 2);
        const auto x = dequant(dequantize_row_q3_K, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const auto& b = blocks[i];
            for (int w = 0; w < 256; ++w) {
                const int s = (w % 128) / 32;
                const int q2 = (b.qs[32 * (w / 128) + w % 32] >> (2 * s)) & 3;
                const int hbit = (b.hmask[w % 32] >> (w / 32)) & 1;
                const int k = w / 16;
                const int low = k < 8 ? b.scales[k] & 15 : b.scales[k - 8] >> 4;
                const int high = (b.scales[8 + k % 4] >> (2 * (k / 4))) & 3;
                const float dl = fp16_to_fp32(b.d) * static_cast<float>((low | high << 4) - 32);
                ASSERT_EQ(x[i * 256 + w], dl * static_cast<float>(q2 - (hbit ? 0 : 4)));
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ4_K>(kBlocks, 3);
        const auto x = dequant(dequantize_row_q4_K, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const auto& b = blocks[i];
            for (int w = 0; w < 256; ++w) {
                const uint8_t byte = b.qs[32 * (w / 64) + w % 32];
                const int q = (w % 64) < 32 ? byte & 15 : byte >> 4;
                int sc = 0;
                int m = 0;
                scale_min(b.scales, w / 32, sc, m);
                const float d1 = fp16_to_fp32(b.d) * static_cast<float>(sc);
                const float m1 = fp16_to_fp32(b.dmin) * static_cast<float>(m);
                ASSERT_EQ(x[i * 256 + w], d1 * static_cast<float>(q) - m1);
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ5_K>(kBlocks, 4);
        const auto x = dequant(dequantize_row_q5_K, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const auto& b = blocks[i];
            for (int w = 0; w < 256; ++w) {
                const uint8_t byte = b.qs[32 * (w / 64) + w % 32];
                const bool high_half = (w % 64) >= 32;
                const int bit = (b.qh[w % 32] >> (2 * (w / 64) + (high_half ? 1 : 0))) & 1;
                const int q = (high_half ? byte >> 4 : byte & 15) | (bit << 4);
                int sc = 0;
                int m = 0;
                scale_min(b.scales, w / 32, sc, m);
                const float d1 = fp16_to_fp32(b.d) * static_cast<float>(sc);
                const float m1 = fp16_to_fp32(b.dmin) * static_cast<float>(m);
                ASSERT_EQ(x[i * 256 + w], d1 * static_cast<float>(q) - m1);
            }
        }
    }
    {
        const auto blocks = random_blocks<BlockQ6_K>(kBlocks, 5);
        const auto x = dequant(dequantize_row_q6_K, blocks);
        for (size_t i = 0; i < kBlocks; ++i) {
            const auto& b = blocks[i];
            for (int w = 0; w < 256; ++w) {
                const int c = w / 128;
                const int g = (w % 128) / 32;  // 0..3: which nibble / which 2 high bits
                const int r = w % 32;
                const uint8_t lbyte = b.ql[64 * c + r + 32 * (g & 1)];
                const int low = g >= 2 ? lbyte >> 4 : lbyte & 15;
                const int high = (b.qh[32 * c + r] >> (2 * g)) & 3;
                const float dl = fp16_to_fp32(b.d) * static_cast<float>(b.scales[w / 16]);
                ASSERT_EQ(x[i * 256 + w], dl * static_cast<float>((low | high << 4) - 32));
            }
        }
    }
}

TEST(KQuants, ScaleMinPackingRoundTrips) {
    // Quantizing any row must store scales that decode to <= 63 and a reconstruction
    // that uses them: check through random rows and the decoder.
    const auto x = test::random_normal(256 * 8, 17);
    std::vector<BlockQ4_K> blocks(8);
    quantize_row_q4_K(x.data(), blocks.data(), 256 * 8);
    for (const auto& b : blocks) {
        for (int k = 0; k < 8; ++k) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(k, b.scales, sc, m);
            int sc2 = 0;
            int m2 = 0;
            scale_min(b.scales, k, sc2, m2);
            EXPECT_EQ(sc, sc2);
            EXPECT_EQ(m, m2);
            EXPECT_LE(sc, 63);
        }
    }
}

TEST(KQuants, Q8_KBsumsAreSubBlockSums) {
    const auto x = test::random_normal(512, 3);
    std::vector<BlockQ8_K> blocks(2);
    quantize_row_q8_K(x.data(), blocks.data(), 512);
    for (const auto& b : blocks) {
        for (int k = 0; k < 16; ++k) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) sum += b.qs[16 * k + j];
            EXPECT_EQ(b.bsums[k], sum);
        }
        // The largest magnitude maps to -127 (ggml uses -127/max, never -128).
        int extreme = 0;
        for (int j = 0; j < 256; ++j) {
            extreme = std::max(extreme, std::abs(static_cast<int>(b.qs[j])));
        }
        EXPECT_EQ(extreme, 127);
    }
}

TEST(KQuants, DotsAreIntegerSumsTimesScales) {
    // Q6_K with every level q = 63 (31 after -32), sub-block scales 1..16, d = 0.5, against
    // Q8_K with d = 0.25 and qs = 1: 0.5 * 0.25 * 31 * 16 * (1 + ... + 16).
    BlockQ6_K x{};
    x.d = kHalf;
    std::memset(x.ql, 0xff, 128);
    std::memset(x.qh, 0xff, 64);
    for (int k = 0; k < 16; ++k) x.scales[k] = static_cast<int8_t>(k + 1);
    BlockQ8_K y{};
    y.d = 0.25f;
    std::memset(y.qs, 1, 256);
    for (auto& s : y.bsums) s = 16;
    EXPECT_EQ(vec_dot_q6_K_q8_K(256, &x, &y), 0.125f * 31.0f * 16.0f * 136.0f);

    // Q4_K: scales 1, mins 2, d = 1, dmin = 0.5, every level 3; y qs = 2, d = 1:
    // sum = 256 * 3 * 2 * 1 - 0.5 * 2 * sum(bsums) = 1536 - 512.
    BlockQ4_K a{};
    a.d = kOne;
    a.dmin = kHalf;
    const uint8_t scales[12] = {1, 1, 1, 1, 2, 2, 2, 2, 1 | 2 << 4, 1 | 2 << 4, 1 | 2 << 4,
                                1 | 2 << 4};
    std::memcpy(a.scales, scales, 12);
    std::memset(a.qs, 0x33, 128);
    BlockQ8_K z{};
    z.d = 1.0f;
    std::memset(z.qs, 2, 256);
    for (auto& s : z.bsums) s = 32;
    EXPECT_EQ(vec_dot_q4_K_q8_K(256, &a, &z), 1024.0f);
}

}  // namespace
}  // namespace loom::quant

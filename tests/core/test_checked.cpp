// Tests of the overflow-checked arithmetic in core/checked.h.
#include <gtest/gtest.h>

#include <limits>

#include "core/checked.h"

namespace loom {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(Checked, AddDetectsOverflow) {
    uint64_t out = 0;
    EXPECT_TRUE(checked_add(1, 2, out));
    EXPECT_EQ(out, 3u);
    EXPECT_TRUE(checked_add(kMax - 1, 1, out));
    EXPECT_EQ(out, kMax);
    EXPECT_FALSE(checked_add(kMax, 1, out));
}

TEST(Checked, MulDetectsOverflow) {
    uint64_t out = 0;
    EXPECT_TRUE(checked_mul(1ull << 31, 1ull << 32, out));
    EXPECT_EQ(out, 1ull << 63);
    EXPECT_FALSE(checked_mul(1ull << 32, 1ull << 32, out));
    EXPECT_TRUE(checked_mul(0, kMax, out));
    EXPECT_EQ(out, 0u);
}

TEST(Checked, AlignUp) {
    uint64_t out = 0;
    EXPECT_TRUE(checked_align_up(0, 32, out));
    EXPECT_EQ(out, 0u);
    EXPECT_TRUE(checked_align_up(33, 32, out));
    EXPECT_EQ(out, 64u);
    EXPECT_TRUE(checked_align_up(64, 32, out));
    EXPECT_EQ(out, 64u);
    EXPECT_FALSE(checked_align_up(kMax - 3, 32, out));
}

TEST(Checked, PowerOfTwo) {
    EXPECT_FALSE(is_power_of_two(0));
    EXPECT_TRUE(is_power_of_two(1));
    EXPECT_TRUE(is_power_of_two(32));
    EXPECT_FALSE(is_power_of_two(48));
    EXPECT_TRUE(is_power_of_two(1ull << 63));
}

}  // namespace
}  // namespace loom

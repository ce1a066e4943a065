// Tests of the text helpers in core/format.h.
#include <gtest/gtest.h>

#include "core/format.h"

namespace loom {
namespace {

TEST(Format, Bytes) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1536), "1.50 KiB");
    EXPECT_EQ(format_bytes(3ull << 30), "3.00 GiB");
}

TEST(Format, Count) {
    EXPECT_EQ(format_count(999), "999");
    EXPECT_EQ(format_count(268098176), "268.10 M");
    EXPECT_EQ(format_count(1500), "1.50 K");
}

TEST(Format, QuoteEscapesAndCuts) {
    EXPECT_EQ(quote_for_message("abc"), "\"abc\"");
    EXPECT_EQ(quote_for_message(std::string_view("a\n\x01\"", 4)), "\"a\\x0a\\x01\\\"\"");
    EXPECT_EQ(quote_for_message(std::string(100, 'x'), 3), "\"xxx\"...");
}

}  // namespace
}  // namespace loom

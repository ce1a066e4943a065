// Tests of HttpHeaders and the RFC 9110 grammar helpers.
#include <gtest/gtest.h>

#include "server/http_headers.h"

namespace loom::server {
namespace {

TEST(HttpHeaders, GrammarHelpers) {
    EXPECT_TRUE(ascii_iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(ascii_iequals("Content-Length", "Content-Lengt"));
    EXPECT_TRUE(is_token("X-Custom_1.~!"));
    EXPECT_FALSE(is_token("X Custom"));
    EXPECT_FALSE(is_token("X:"));
    EXPECT_FALSE(is_token(""));
    EXPECT_EQ(trim_ows(" \t a b \t"), "a b");
    EXPECT_EQ(trim_ows("  "), "");
    auto items = split_list(" a, ,b ,, c\t");
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0], "a");
    EXPECT_EQ(items[1], "b");
    EXPECT_EQ(items[2], "c");
    EXPECT_TRUE(split_list("").empty());
    EXPECT_TRUE(split_list(" , ").empty());
}

TEST(HttpHeaders, LookupAcrossRepeatedFields) {
    HttpHeaders headers;
    headers.add("Connection", "keep-alive");
    headers.add("X-A", "1");
    headers.add("connection", "Upgrade, close");
    EXPECT_EQ(headers.size(), 3u);
    EXPECT_EQ(headers.count("CONNECTION"), 2u);
    EXPECT_EQ(*headers.find("connection"), "keep-alive");
    EXPECT_TRUE(headers.has_token("Connection", "Close"));
    EXPECT_FALSE(headers.has_token("Connection", "clos"));
    EXPECT_FALSE(headers.has_token("X-B", "1"));
    auto all = headers.find_all("Connection");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1], "Upgrade, close");
}

}  // namespace
}  // namespace loom::server

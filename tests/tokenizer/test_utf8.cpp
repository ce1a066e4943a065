// Tests of the UTF-8 helpers and the streaming decoder.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace loom::tokenizer {
namespace {

TEST(Utf8, DecodeValidAndInvalid) {
    std::string s = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x8e\x89";
    size_t off = 0;
    EXPECT_EQ(utf8_decode(s, off), 'a');
    EXPECT_EQ(utf8_decode(s, off), 0xE9u);
    EXPECT_EQ(utf8_decode(s, off), 0x4E2Du);
    EXPECT_EQ(utf8_decode(s, off), 0x1F389u);
    EXPECT_EQ(off, s.size());
    std::string bad = "\x80\xc3\xff";
    off = 0;
    EXPECT_EQ(utf8_decode(bad, off), 0xFFFDu);
    EXPECT_EQ(off, 1u);
    EXPECT_EQ(utf8_decode(bad, off), 0xFFFDu);  // truncated 2-byte sequence
    EXPECT_EQ(utf8_decode(bad, off), 0xFFFDu);  // 0xFF is never a lead byte
    EXPECT_EQ(off, 3u);
}

TEST(Utf8, Validity) {
    EXPECT_TRUE(utf8_is_valid("plain \xe2\x82\xac"));
    EXPECT_FALSE(utf8_is_valid("\xc0\x80"));          // overlong NUL
    EXPECT_FALSE(utf8_is_valid("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(utf8_is_valid("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(utf8_is_valid("\xe2\x82"));          // truncated
}

TEST(Utf8, SanitizeReplacesWhatRegexesCannotSee) {
    EXPECT_EQ(utf8_sanitize("ok"), "ok");
    EXPECT_EQ(utf8_sanitize("a\xff" "b"), "a\xef\xbf\xbd" "b");
    EXPECT_EQ(utf8_sanitize("\xc0\x80"), std::string("\0", 1));  // overlong decodes as llama.cpp does
    // A surrogate becomes the same-length stand-in U+E000, and comes back on restore.
    EXPECT_EQ(utf8_sanitize("\xed\xa0\x80"), "\xee\x80\x80");
    EXPECT_EQ(utf8_restore_surrogates("a\xffz\xed\xa0\x80", utf8_sanitize("a\xffz\xed\xa0\x80")),
              "a\xef\xbf\xbdz\xed\xa0\x80");
    EXPECT_EQ(utf8_sanitize("\xf4\x90\x80\x80"), "\xef\xbf\xbd");  // above U+10FFFF
}

TEST(Utf8, CompletePrefix) {
    EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
    EXPECT_EQ(utf8_complete_prefix("a\xe4\xb8"), 1u);
    EXPECT_EQ(utf8_complete_prefix("a\xe4\xb8\xad"), 4u);
    EXPECT_EQ(utf8_complete_prefix("\xf0\x9f\x8e"), 0u);
    EXPECT_EQ(utf8_complete_prefix("a\x80"), 2u);  // stray continuation: passed through
}

TEST(StreamDecoder, NeverEmitsHalfACharacter) {
    StreamDecoder d;
    std::string emoji = "\xf0\x9f\x8e\x89";
    EXPECT_EQ(d.push("x"), "x");
    EXPECT_EQ(d.push(emoji.substr(0, 1)), "");
    EXPECT_EQ(d.push(emoji.substr(1, 2)), "");
    EXPECT_EQ(d.push(emoji.substr(3) + "y"), emoji + "y");
    EXPECT_EQ(d.push("\xe4"), "");
    EXPECT_EQ(d.finish(), "\xe4");
}

}  // namespace
}  // namespace loom::tokenizer

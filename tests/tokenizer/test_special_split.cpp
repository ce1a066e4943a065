// Tests of the special-token split: llama.cpp's order (longest token first, then left
// to right), control tokens only with parse_special, user-defined tokens always.
#include <gtest/gtest.h>

#include "tokenizer/special_split.h"
#include "vocab_builder.h"

namespace loom::tokenizer {
namespace {

using loom::test::TinyToken;

std::string render(std::string_view text, const std::vector<Fragment>& fragments) {
    std::string out;
    for (const Fragment& f : fragments) {
        out += f.token == kNoToken ? "[" + std::string(text.substr(f.begin, f.end - f.begin)) + "]"
                                   : "<" + std::to_string(f.token) + ">";
    }
    return out;
}

class SpecialSplitTest : public ::testing::Test {
protected:
    SpecialSplitTest()
        : bytes_(loom::test::tiny_vocab("llama", {
              {"<unk>", 0, TokenType::Unknown},       // 0
              {"ab", 0, TokenType::UserDefined},      // 1
              {"bcd", 0, TokenType::UserDefined},     // 2
              {"<ctl>", 0, TokenType::Control},       // 3
              {"x", 0, TokenType::Normal},            // 4
          })),
          file_(gguf::GgufFile::parse(bytes_, "tiny")),
          vocab_(Vocab::from_gguf(file_)),
          splitter_(vocab_) {}

    std::vector<uint8_t> bytes_;
    gguf::GgufFile file_;
    Vocab vocab_;
    SpecialSplitter splitter_;
};

TEST_F(SpecialSplitTest, LongerTokensClaimFirst) {
    // "bcd" (longer) is taken before "ab" can match at 0.
    EXPECT_EQ(render("abcd", splitter_.split("abcd", false)), "[a]<2>");
    EXPECT_EQ(render("ab ab", splitter_.split("ab ab", false)), "<1>[ ]<1>");
}

TEST_F(SpecialSplitTest, ControlOnlyWithParseSpecial) {
    EXPECT_EQ(render("x<ctl>x", splitter_.split("x<ctl>x", false)), "[x<ctl>x]");
    EXPECT_EQ(render("x<ctl>x", splitter_.split("x<ctl>x", true)), "[x]<3>[x]");
    EXPECT_EQ(render("<unk>", splitter_.split("<unk>", false)), "[<unk>]");
    EXPECT_EQ(render("<unk>", splitter_.split("<unk>", true)), "<0>");
}

TEST_F(SpecialSplitTest, EmptyAndPlainText) {
    EXPECT_TRUE(splitter_.split("", true).empty());
    EXPECT_EQ(render("plain", splitter_.split("plain", true)), "[plain]");
}

TEST_F(SpecialSplitTest, ManyOccurrencesStayLinear) {
    std::string text;
    for (int i = 0; i < 100000; ++i) text += "ab";
    auto fragments = splitter_.split(text, false);
    EXPECT_EQ(fragments.size(), 100000u);
}

}  // namespace
}  // namespace loom::tokenizer

// SentencePiece-style BPE on a hand-made vocabulary: merges by score, byte fallback,
// the space prefix, BOS handling, decoding.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "vocab_builder.h"

namespace loom::tokenizer {
namespace {

using loom::test::TinyToken;

const std::vector<TinyToken>& spm_tokens() {
    static const std::vector<TinyToken> tokens = [] {
        std::vector<TinyToken> t = {
            {"<unk>", 0, TokenType::Unknown},   // 0
            {"<s>", 0, TokenType::Control},     // 1
            {"</s>", 0, TokenType::Control},    // 2
            {"\xe2\x96\x81", -1.0f},            // 3 "▁"
            {"a", -2.0f},                       // 4
            {"b", -2.0f},                       // 5
            {"ab", -0.5f},                      // 6
            {"\xe2\x96\x81" "ab", -0.1f},       // 7 "▁ab"
            {"bb", -0.2f},                      // 8
        };
        for (int b = 0; b < 256; ++b) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "<0x%02X>", b);
            t.push_back({hex, 0, TokenType::Byte});  // 9 + b
        }
        return t;
    }();
    return tokens;
}

TEST(Spm, MergesByScoreAndFallsBackToBytes) {
    auto bytes = loom::test::tiny_vocab("llama", spm_tokens());
    auto file = gguf::GgufFile::parse(bytes, "tiny");
    Tokenizer tok = Tokenizer::from_gguf(file);
    // "▁abb": of the pairs that are tokens, "bb" (-0.2) beats "ab" (-0.5); "▁ab" (-0.1)
    // would score best but can only form from "▁" + "ab", which never forms.
    EXPECT_EQ(tok.encode("abb", false, false), (std::vector<TokenId>{3, 4, 8}));
    // "▁ab": "ab" forms first, then "▁" + "ab".
    EXPECT_EQ(tok.encode("ab", false, false), (std::vector<TokenId>{7}));
    // "c" is no token: byte fallback 0x63 -> 9 + 0x63.
    EXPECT_EQ(tok.encode("c", false, false), (std::vector<TokenId>{3, 9 + 0x63}));
    // Multi-byte unknown character: one token per byte.
    EXPECT_EQ(tok.encode("\xc3\xa9", false, false), (std::vector<TokenId>{3, 9 + 0xC3, 9 + 0xA9}));
}

TEST(Spm, DecodeRestoresText) {
    auto bytes = loom::test::tiny_vocab("llama", spm_tokens());
    auto file = gguf::GgufFile::parse(bytes, "tiny");
    Tokenizer tok = Tokenizer::from_gguf(file);
    for (std::string text : {"ab", "abb a", "\xc3\xa9t\xc3\xa9", "a  b"}) {
        auto ids = tok.encode(text, false, false);
        EXPECT_EQ(tok.decode(ids), text) << text;
    }
    EXPECT_EQ(tok.piece(1, false), "");
    EXPECT_EQ(tok.piece(1, true), "<s>");
    EXPECT_EQ(tok.piece(9 + 'Z', false), "Z");
}

TEST(Spm, LongInputIsNotQuadratic) {
    auto bytes = loom::test::tiny_vocab("llama", spm_tokens());
    auto file = gguf::GgufFile::parse(bytes, "tiny");
    Tokenizer tok = Tokenizer::from_gguf(file);
    std::string text(1 << 20, 'a');  // 1 MiB: quadratic work would not finish
    auto ids = tok.encode(text, false, false);
    EXPECT_GT(ids.size(), 0u);
    EXPECT_EQ(tok.decode(ids), text);
}

}  // namespace
}  // namespace loom::tokenizer

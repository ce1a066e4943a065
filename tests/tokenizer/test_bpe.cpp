// Byte-level BPE on a hand-made vocabulary: the byte table, merges by rank, the
// pre-tokenizer table, unknown pre-tokenizers.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer.h"
#include "vocab_builder.h"

namespace loom::tokenizer {
namespace {

using loom::test::TinyToken;

std::vector<TinyToken> bpe_tokens() {
    std::vector<TinyToken> t;
    for (int b = 0; b < 256; ++b) t.push_back({byte_to_unicode()[b]});  // ids 0..255
    for (std::string s : {"ab", "abc", "\xc4\xa0" "a"}) t.push_back({s});  // 256 257 258
    t.push_back({"<|endoftext|>", 0, TokenType::Control});                 // 259
    return t;
}

TEST(Bpe, ByteTableIsGpt2s) {
    const auto& table = byte_to_unicode();
    EXPECT_EQ(table['A'], "A");
    EXPECT_EQ(table[' '], "\xc4\xa0");   // U+0120 'Ġ'
    EXPECT_EQ(table['\n'], "\xc4\x8a");  // U+010A 'Ċ'
    EXPECT_EQ(unicode_to_bytes("\xc4\xa0hi\xc4\x8a"), " hi\n");
}

TEST(Bpe, MergesByRank) {
    auto bytes = loom::test::tiny_vocab("gpt2", bpe_tokens(), {"a b", "ab c", "\xc4\xa0 a"}, "gpt-2");
    auto file = gguf::GgufFile::parse(bytes, "tiny");
    Tokenizer tok = Tokenizer::from_gguf(file);
    EXPECT_EQ(tok.encode("abc", false, false), (std::vector<TokenId>{257}));
    // " abc" is one gpt-2 word "Ġabc": "a b" (rank 0) merges before "Ġ a" (rank 2), then
    // "ab c" (rank 1); "Ġ" (byte 0x20, id 32) stays alone.
    EXPECT_EQ(tok.encode(" abc", false, false), (std::vector<TokenId>{32, 257}));
    EXPECT_EQ(tok.encode(" a", false, false), (std::vector<TokenId>{258}));
    EXPECT_EQ(tok.decode(tok.encode(" abc d\n", false, false)), " abc d\n");
    EXPECT_EQ(tok.encode("<|endoftext|>", false, true), (std::vector<TokenId>{259}));
}

TEST(Bpe, EveryPreTokenizerCompiles) {
    for (const PreTokenizerSpec& spec : pre_tokenizers()) {
        PreTokenizer pre(spec);
        auto words = pre.split("Hello, world! 123 don't\n\n  x");
        size_t covered = 0;
        for (auto [b, e] : words) {
            EXPECT_EQ(b, covered) << spec.name;
            covered = e;
        }
        EXPECT_EQ(covered, 28u) << spec.name;
    }
}

TEST(Bpe, UnknownPreTokenizerIsAClearError) {
    auto bytes = loom::test::tiny_vocab("gpt2", bpe_tokens(), {"a b"}, "no-such-pre");
    auto file = gguf::GgufFile::parse(bytes, "tiny");
    try {
        Tokenizer::from_gguf(file);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown pre-tokenizer \"no-such-pre\""), std::string::npos);
    }
    TokenizerOptions options;
    options.fallback_pre = "gpt-2";
    EXPECT_NO_THROW(Tokenizer::from_gguf(file, options));
}

}  // namespace
}  // namespace loom::tokenizer

// Byte-level BPE (tokenizer.ggml.model = "gpt2"): each pre-tokenized word is mapped
// byte by byte to GPT-2's printable code points, then adjacent pieces merge by rank
// (tokenizer.ggml.merges order) until no listed merge applies. Also the inverse byte
// mapping for decoding. Spec: GPT-2 encoder.py (bytes_to_unicode, bpe); behaviour as
// llama.cpp's llm_tokenizer_bpe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace loom::tokenizer {

// GPT-2's byte -> code point table, as UTF-8 strings.
const std::array<std::string, 256>& byte_to_unicode();

// The bytes a byte-level token text stands for; code points outside the table are
// kept as their UTF-8 (llama.cpp marks them as unknown bytes).
std::string unicode_to_bytes(std::string_view token_text);

class BpeEncoder {
public:
    BpeEncoder(const Vocab& vocab, const PreTokenizerSpec& spec);

    // Appends the tokens of text (no special tokens in it) to out.
    void encode(std::string_view text, std::vector<TokenId>& out) const;

    const PreTokenizerSpec& spec() const { return pre_.spec(); }

private:
    void encode_word(std::string_view mapped, std::vector<TokenId>& out) const;

    const Vocab* vocab_;
    PreTokenizer pre_;
};

}  // namespace loom::tokenizer

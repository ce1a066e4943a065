// WordPiece (tokenizer.ggml.model = "bert", embedding models): text is decomposed
// (each code point replaced by the first code point of its canonical decomposition,
// which strips accents), lowercased, split at whitespace, punctuation, ASCII symbols and
// CJK ideographs, control characters dropped; each word, with a leading U+2581, is then
// cut greedily into the longest vocabulary pieces, or becomes [UNK] when a piece is
// missing. Unicode data comes from utf8proc. Spec: BERT BasicTokenizer +
// WordpieceTokenizer; behaviour as llama.cpp's llm_tokenizer_wpm.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace loom::tokenizer {

class WpmEncoder {
public:
    explicit WpmEncoder(const Vocab& vocab);
    void encode(std::string_view text, std::vector<TokenId>& out) const;

private:
    const Vocab* vocab_;
    size_t max_token_len_ = 0;
};

}  // namespace loom::tokenizer

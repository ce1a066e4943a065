// SentencePiece-style BPE (tokenizer.ggml.model = "llama"): merge adjacent pieces by
// highest token score until no merge forms a known token; characters that are no token
// fall back to their bytes' <0xNN> tokens. Works on text whose spaces are already
// escaped to U+2581 (the caller does that and the space prefix).
// Spec: SentencePiece BPE model; behaviour as llama.cpp's llm_tokenizer_spm.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace loom::tokenizer {

// Appends the tokens of text to out. Linear in practice: a heap over adjacent pairs.
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);

}  // namespace loom::tokenizer

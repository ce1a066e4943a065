// Builds small vocabulary-only GGUF files in memory for tokenizer tests.
#pragma once

#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/vocab.h"

namespace loom::test {

struct TinyToken {
    std::string text;
    float score = 0.0f;
    tokenizer::TokenType type = tokenizer::TokenType::Normal;
};

// The bytes of a vocabulary-only GGUF; parse them with GgufFile::parse and keep them
// alive while the file is used.
inline std::vector<uint8_t> tiny_vocab(const std::string& model, const std::vector<TinyToken>& tokens,
                                const std::vector<std::string>& merges = {},
                                const std::string& pre = "") {
    gguf::GgufWriter w;
    w.add("tokenizer.ggml.model", std::string_view(model));
    if (!pre.empty()) w.add("tokenizer.ggml.pre", std::string_view(pre));
    std::vector<std::string> texts;
    std::vector<float> scores;
    std::vector<int32_t> types;
    for (const auto& t : tokens) {
        texts.push_back(t.text);
        scores.push_back(t.score);
        types.push_back(static_cast<int32_t>(t.type));
    }
    w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(texts));
    w.add_array<float>("tokenizer.ggml.scores", scores);
    w.add_array<int32_t>("tokenizer.ggml.token_type", types);
    if (!merges.empty()) w.add_array("tokenizer.ggml.merges", std::span<const std::string>(merges));
    w.add("tokenizer.ggml.add_bos_token", false);
    return w.to_bytes();
}

}  // namespace loom::test

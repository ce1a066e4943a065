// The tokenizer fuzz entry: tokenize arbitrary bytes (any UTF-8 or not) with a
// SentencePiece vocabulary and two byte-level BPE vocabularies from the fixtures, then
// decode, also piece by piece through the streaming decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace loom::fuzz {

// Loads the vocabularies once from fixtures_dir; returns false if they are missing.
bool tokenizer_init(const std::string& fixtures_dir);
int tokenizer_one_input(const uint8_t* data, size_t size);

}  // namespace loom::fuzz

// Checks of the well-known GGUF metadata keys that later layers index arrays with:
// architecture hyperparameters ({arch}.block_count, head counts, lengths, experts, rope)
// and tokenizer arrays (tokens, scores, token types, merges). Each present key must have
// its documented type and a value in a sane range; per-layer arrays must have
// block_count entries; block_count must match the blk.N tensors present; tokenizer
// arrays must agree in length. This is what closes the llama.cpp bug classes of
// "block_count > 512 writes out of bounds" and "tokenizer array of the wrong element
// type reads out of bounds". Missing keys are not errors here: the model layer decides
// what it requires.
#pragma once

#include <cstdint>

namespace loom::gguf {

class GgufFile;

// Upper bound on {arch}.block_count.
constexpr uint64_t kMaxLayers = 1024;

// Throws loom::Error (Format for a wrong type, OutOfRange for a bad value) naming the key.
void validate_known_keys(const GgufFile& file);

}  // namespace loom::gguf

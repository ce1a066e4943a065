// UTF-8 helpers for the tokenizers: sequence lengths as llama.cpp counts them (a stray
// continuation byte is a 1-byte "character"), code point decoding with U+FFFD for
// invalid input, encoding, and the length of the longest complete prefix (for
// streaming output that never emits half a character).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loom::tokenizer {

// Bytes of the UTF-8 sequence that starts with lead (1 for ASCII and for stray
// continuation bytes, 2-4 for lead bytes). Never 0.
inline size_t utf8_sequence_length(uint8_t lead) {
    static constexpr uint8_t lengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lengths[lead >> 4];
}

// Decodes the code point at text[offset] and advances offset, by llama.cpp's rules.
// Invalid or truncated sequences yield U+FFFD and advance one byte.
uint32_t utf8_decode(std::string_view text, size_t& offset);

// Appends the UTF-8 encoding of cp (which must be <= 0x10FFFF).
void utf8_append(std::string& out, uint32_t cp);

// Length of the longest prefix of text that does not end inside an incomplete UTF-8
// sequence. Invalid bytes count as complete (they are passed through).
size_t utf8_complete_prefix(std::string_view text);

// Text a UTF-8 regex engine can match on, decoded as llama.cpp decodes it: invalid
// sequences and values above U+10FFFF become U+FFFD; surrogate code points (which
// llama.cpp keeps) become the private-use U+E000 (same length), with their original
// bytes put back by utf8_restore_surrogates on the same offsets.
std::string utf8_sanitize(std::string_view text);
// sanitized with each stand-in for a surrogate replaced by the surrogate's bytes
// from the original text.
std::string utf8_restore_surrogates(std::string_view original, std::string_view sanitized);

// True if text is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool utf8_is_valid(std::string_view text);

}  // namespace loom::tokenizer

// UTF-8 byte sequences of a code point range: [lo, hi] becomes a short list of sequences
// of byte ranges ([C2-DF][80-BF], E0 [A0-BF][80-BF], ...) that together match exactly the
// UTF-8 encodings of the code points in the range, surrogates (U+D800..U+DFFF) excluded.
// The grammar engine compiles its character classes through this, so that it matches
// bytes, not code points: a token that ends in the middle of a character simply leaves
// the matcher part-way through one of these sequences.
//
// Not here: decoding, validation of text (the sequences only ever match valid UTF-8:
// no overlong forms, no surrogates, nothing above U+10FFFF).
// Method: Russ Cox, "Regular Expression Matching in the Wild" (utf8 ranges); the split
// rule is the one of Rust's regex-syntax Utf8Sequences, written here from that idea.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace loom::runtime {

constexpr char32_t kMaxCodePoint = 0x10FFFF;

struct ByteRange {
    uint8_t lo = 0;
    uint8_t hi = 0;
};

// One sequence: byte k of a match lies in bytes[k], for k < length (1..4).
struct Utf8Sequence {
    uint8_t length = 0;
    std::array<ByteRange, 4> bytes{};
};

// Appends the sequences of the code points in [lo, hi] to out. hi is clamped to
// kMaxCodePoint; an empty range (lo > hi) appends nothing.
void append_utf8_sequences(char32_t lo, char32_t hi, std::vector<Utf8Sequence>& out);

// The UTF-8 encoding of cp (<= kMaxCodePoint) into out; returns its length (1..4).
int encode_utf8(char32_t cp, std::array<uint8_t, 4>& out);

}  // namespace loom::runtime

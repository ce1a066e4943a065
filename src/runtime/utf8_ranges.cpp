// Code point ranges to UTF-8 byte sequences (see utf8_ranges.h).
#include "runtime/utf8_ranges.h"

#include <utility>

namespace loom::runtime {

int encode_utf8(char32_t cp, std::array<uint8_t, 4>& out) {
    if (cp < 0x80) {
        out[0] = static_cast<uint8_t>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
        out[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
        out[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
    out[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 4;
}

void append_utf8_sequences(char32_t lo, char32_t hi, std::vector<Utf8Sequence>& out) {
    if (hi > kMaxCodePoint) hi = kMaxCodePoint;
    if (lo > hi) return;
    // Pending ranges; the second half of a split is pushed first so that the output
    // comes out in ascending order.
    std::vector<std::pair<char32_t, char32_t>> pending{{lo, hi}};
    while (!pending.empty()) {
        auto [a, b] = pending.back();
        pending.pop_back();
        auto split = [&pending](char32_t a1, char32_t b1, char32_t a2, char32_t b2) {
            pending.emplace_back(a2, b2);
            pending.emplace_back(a1, b1);
        };
        // Surrogates have no encoding: cut them out.
        if (a <= 0xDFFF && b >= 0xD800) {
            if (b > 0xDFFF) pending.emplace_back(0xE000, b);
            if (a < 0xD800) pending.emplace_back(a, 0xD7FF);
            continue;
        }
        // A sequence has one length: split at the boundaries between lengths.
        bool was_split = false;
        for (char32_t max : {char32_t{0x7F}, char32_t{0x7FF}, char32_t{0xFFFF}}) {
            if (a <= max && b > max) {
                split(a, max, max + 1, b);
                was_split = true;
                break;
            }
        }
        if (was_split) continue;
        std::array<uint8_t, 4> first{};
        const int length = encode_utf8(a, first);
        // Each byte can range independently only when, for every continuation position,
        // a and b either share all higher bits or span the full low block below them.
        for (int i = 1; i < length && !was_split; ++i) {
            const char32_t low_bits = (char32_t{1} << (6 * i)) - 1;
            if ((a & ~low_bits) == (b & ~low_bits)) continue;
            if ((a & low_bits) != 0) {
                split(a, a | low_bits, (a | low_bits) + 1, b);
                was_split = true;
            } else if ((b & low_bits) != low_bits) {
                split(a, (b & ~low_bits) - 1, b & ~low_bits, b);
                was_split = true;
            }
        }
        if (was_split) continue;
        std::array<uint8_t, 4> last{};
        encode_utf8(b, last);
        Utf8Sequence seq;
        seq.length = static_cast<uint8_t>(length);
        for (int k = 0; k < length; ++k) seq.bytes[k] = ByteRange{first[k], last[k]};
        out.push_back(seq);
    }
}

}  // namespace loom::runtime

// UTF-8 helpers.
#include "tokenizer/utf8.h"

namespace loom::tokenizer {

uint32_t utf8_decode(std::string_view text, size_t& offset) {
    // The rules of llama.cpp's decoder: the lead byte fixes the length, continuation
    // bytes must be 10xxxxxx; overlong forms are accepted as they decode.
    auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
    uint8_t b0 = byte(offset);
    size_t n = 0;
    uint32_t cp = 0;
    if ((b0 & 0x80) == 0) {
        ++offset;
        return b0;
    } else if ((b0 & 0x40) == 0) {
        n = 0;  // stray continuation byte
    } else if ((b0 & 0x20) == 0) {
        n = 2;
        cp = b0 & 0x1F;
    } else if ((b0 & 0x10) == 0) {
        n = 3;
        cp = b0 & 0x0F;
    } else if ((b0 & 0x08) == 0) {
        n = 4;
        cp = b0 & 0x07;
    }
    if (n == 0 || offset + n > text.size()) {
        ++offset;
        return 0xFFFD;
    }
    for (size_t i = 1; i < n; ++i) {
        uint8_t c = byte(offset + i);
        if ((c & 0xC0) != 0x80) {
            ++offset;
            return 0xFFFD;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    offset += n;
    return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

constexpr uint32_t kSurrogateStandIn = 0xE000;

std::string utf8_sanitize(std::string_view text) {
    if (utf8_is_valid(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    for (size_t offset = 0; offset < text.size();) {
        uint32_t cp = utf8_decode(text, offset);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = kSurrogateStandIn;  // 3 bytes, like the surrogate
        if (cp > 0x10FFFF) cp = 0xFFFD;
        utf8_append(out, cp);
    }
    return out;
}

std::string utf8_restore_surrogates(std::string_view original, std::string_view sanitized) {
    std::string out(sanitized);
    // Both texts decode to the same sequence of code points (see utf8_sanitize).
    size_t o = 0;
    size_t s = 0;
    while (o < original.size() && s < out.size()) {
        size_t start = o;
        uint32_t cp = utf8_decode(original, o);
        size_t at = s;
        utf8_decode(sanitized, s);
        if (cp >= 0xD800 && cp <= 0xDFFF) out.replace(at, 3, original.substr(start, 3));
    }
    return out;
}

size_t utf8_complete_prefix(std::string_view text) {
    // Look back at most 3 bytes for the lead byte of the last sequence.
    size_t size = text.size();
    for (size_t back = 1; back <= 3 && back <= size; ++back) {
        auto c = static_cast<uint8_t>(text[size - back]);
        if ((c & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
        size_t need = utf8_sequence_length(c);
        return need > back ? size - back : size;
    }
    return size;
}

bool utf8_is_valid(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<uint8_t>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t n = 0;
        uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n > text.size()) return false;
        for (size_t k = 1; k < n; ++k) {
            auto d = static_cast<uint8_t>(text[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        static constexpr uint32_t min_for_length[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

}  // namespace loom::tokenizer

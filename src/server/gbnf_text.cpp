// GBNF literal and class writing (see gbnf_text.h).
#include "server/gbnf_text.h"

#include "tokenizer/utf8.h"

#include <algorithm>
#include <cstdio>

namespace loom::server {
namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;

// A code point inside [...]: printable ASCII that is not special to the class syntax
// as itself, everything else as an escape.
void append_class_char(std::string& out, char32_t cp) {
    const bool plain = cp >= 0x21 && cp <= 0x7E && cp != '\\' && cp != ']' && cp != '[' &&
                       cp != '-' && cp != '^' && cp != '"';
    if (plain) {
        out += static_cast<char>(cp);
        return;
    }
    char buf[16];
    if (cp <= 0xFF) {
        std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
    } else if (cp <= 0xFFFF) {
        std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    } else {
        std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
    }
    out += buf;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) { tokenizer::utf8_append(out, static_cast<uint32_t>(cp)); }

std::string gbnf_literal(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        switch (b) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (b < 0x20 || b == 0x7F) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02X", b);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
    return out;
}

std::string gbnf_class(const CodeRanges& ranges) {
    std::string out = "[";
    for (const auto& [lo, hi] : ranges) {
        append_class_char(out, lo);
        if (hi > lo) {
            if (hi > lo + 1) out += '-';
            append_class_char(out, hi);
        }
    }
    out += ']';
    return out;
}

CodeRanges normalize_ranges(CodeRanges ranges) {
    for (auto& r : ranges) r.second = std::min(r.second, kMaxCodePoint);
    std::erase_if(ranges, [](const auto& r) { return r.first > r.second; });
    std::sort(ranges.begin(), ranges.end());
    CodeRanges merged;
    for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second + 1) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    return merged;
}

CodeRanges complement_ranges(const CodeRanges& ranges) {
    CodeRanges out;
    char32_t next = 0;
    for (const auto& [lo, hi] : ranges) {
        if (lo > next) out.emplace_back(next, lo - 1);
        next = hi + 1;
    }
    if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
    return out;
}

CodeRanges intersect_ranges(const CodeRanges& a, const CodeRanges& b) {
    CodeRanges out;
    size_t i = 0;
    size_t j = 0;
    while (i < a.size() && j < b.size()) {
        const char32_t lo = std::max(a[i].first, b[j].first);
        const char32_t hi = std::min(a[i].second, b[j].second);
        if (lo <= hi) out.emplace_back(lo, hi);
        if (a[i].second < b[j].second) {
            ++i;
        } else {
            ++j;
        }
    }
    return out;
}

}  // namespace loom::server

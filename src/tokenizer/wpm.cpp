// WordPiece encoding.
#include "tokenizer/wpm.h"

#include <utf8proc.h>

#include <string>

#include "tokenizer/utf8.h"

namespace loom::tokenizer {
namespace {

bool is_whitespace(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

bool is_chinese_char(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// The first code point of cp's canonical decomposition (cp itself when it has none).
uint32_t decompose_first(uint32_t cp) {
    utf8proc_int32_t buffer[8];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, 8,
                                                 UTF8PROC_DECOMPOSE, &last);
    return n > 0 ? static_cast<uint32_t>(buffer[0]) : cp;
}

}  // namespace

WpmEncoder::WpmEncoder(const Vocab& vocab) : vocab_(&vocab) {
    for (TokenId id = 0; static_cast<size_t>(id) < vocab.size(); ++id) {
        max_token_len_ = std::max(max_token_len_, vocab.text(id).size());
    }
}

void WpmEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
    // Split into words.
    std::vector<std::string> words(1);
    for (size_t offset = 0; offset < text.size();) {
        uint32_t raw = utf8_decode(text, offset);
        uint32_t cp = raw > 0x10FFFF ? 0xFFFD : decompose_first(raw);
        if (is_whitespace(cp)) {
            if (!words.back().empty()) words.emplace_back();
            continue;
        }
        utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
        bool control = category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
                       category == UTF8PROC_CATEGORY_CS || category == UTF8PROC_CATEGORY_CO;
        bool mark = category >= UTF8PROC_CATEGORY_MN && category <= UTF8PROC_CATEGORY_ME;
        if (cp == 0 || cp == 0xFFFD || control || mark) continue;  // marks go: accents stripped
        std::string lower;
        utf8_append(lower, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
        bool punctuation = category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
        bool symbol = category >= UTF8PROC_CATEGORY_SM && category <= UTF8PROC_CATEGORY_SO;
        if (punctuation || (cp < 0x7F && symbol) || is_chinese_char(cp)) {
            if (!words.back().empty()) words.emplace_back();
            words.back() = lower;
            words.emplace_back();
        } else {
            words.back() += lower;
        }
    }

    const Vocab& v = *vocab_;
    for (const std::string& word : words) {
        if (word.empty()) continue;
        std::string marked = "\xe2\x96\x81" + word;  // the word-start marker, as the vocab stores it
        size_t start_size = out.size();
        size_t n = marked.size();
        for (size_t i = 0; i < n;) {
            bool matched = false;
            for (size_t j = std::min(n, i + max_token_len_ + 1); j > i; --j) {
                TokenId id = v.find(std::string_view(marked).substr(i, j - i));
                if (id != kNoToken) {
                    out.push_back(id);
                    i = j;
                    matched = true;
                    break;
                }
            }
            if (!matched) {
                out.resize(start_size);  // the whole word becomes [UNK]
                break;
            }
        }
        if (out.size() == start_size && v.special().unk != kNoToken) out.push_back(v.special().unk);
    }
}

}  // namespace loom::tokenizer

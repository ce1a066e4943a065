// Byte-level BPE encoding.
#include "tokenizer/bpe.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace loom::tokenizer {
namespace {

std::array<std::string, 256> build_byte_table() {
    std::array<std::string, 256> table;
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b) printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        uint32_t cp = printable[b] ? static_cast<uint32_t>(b) : next++;
        utf8_append(table[b], cp);
    }
    return table;
}

struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t start;
    uint32_t n;
    TokenId id;  // token of the symbol's text, or kNoToken
};

struct Bigram {
    int32_t rank;
    int32_t left;
    int32_t right;
    uint32_t size;
};

// Lowest rank first; among equal ranks the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

}  // namespace

const std::array<std::string, 256>& byte_to_unicode() {
    static const std::array<std::string, 256> table = build_byte_table();  // immutable
    return table;
}

std::string unicode_to_bytes(std::string_view token_text) {
    // Code point -> byte, for the 256 code points of the table (all below 0x144).
    static const std::array<int16_t, 0x144> inverse = [] {
        std::array<int16_t, 0x144> t{};
        t.fill(-1);
        const auto& table = byte_to_unicode();
        for (int b = 0; b < 256; ++b) {
            size_t offset = 0;
            t[utf8_decode(table[b], offset)] = static_cast<int16_t>(b);
        }
        return t;
    }();
    std::string out;
    out.reserve(token_text.size());
    for (size_t offset = 0; offset < token_text.size();) {
        size_t start = offset;
        uint32_t cp = utf8_decode(token_text, offset);
        if (cp < inverse.size() && inverse[cp] >= 0) {
            out += static_cast<char>(inverse[cp]);
        } else {
            out.append(token_text.substr(start, offset - start));
        }
    }
    return out;
}

BpeEncoder::BpeEncoder(const Vocab& vocab, const PreTokenizerSpec& spec) : vocab_(&vocab), pre_(spec) {}

void BpeEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
    std::string clean = utf8_sanitize(text);
    // The regexes see the sanitized text; the words take their bytes from it with any
    // surrogate's own bytes put back, as llama.cpp keeps them.
    std::string bytes = clean.size() == text.size() && clean == text ? clean : utf8_restore_surrogates(text, clean);
    const auto& table = byte_to_unicode();
    std::string mapped;
    for (auto [begin, end] : pre_.split(clean)) {
        mapped.clear();
        for (size_t i = begin; i < end; ++i) mapped += table[static_cast<uint8_t>(bytes[i])];
        encode_word(mapped, out);
    }
}

void BpeEncoder::encode_word(std::string_view word, std::vector<TokenId>& out) const {
    const Vocab& v = *vocab_;
    if (pre_.spec().ignore_merges) {
        if (TokenId id = v.find(word); id != kNoToken) {
            out.push_back(id);
            return;
        }
    }
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    for (size_t offset = 0; offset < word.size();) {
        size_t n = std::min(word.size() - offset, utf8_sequence_length(static_cast<uint8_t>(word[offset])));
        auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back(Symbol{index - 1, -1, static_cast<uint32_t>(offset), static_cast<uint32_t>(n),
                                 v.find(word.substr(offset, n))});
        offset += n;
        if (offset < word.size()) symbols.back().next = index + 1;
    }
    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        int32_t rank = -1;
        if (l.id != kNoToken && r.id != kNoToken) rank = v.merge_rank(l.id, r.id);
        if (rank < 0 && v.has_text_merges()) {
            rank = v.merge_rank(word.substr(l.start, l.n), word.substr(r.start, r.n));
        }
        if (rank < 0) return;
        queue.push(Bigram{rank, left, right, l.n + r.n});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int32_t>(i) - 1, static_cast<int32_t>(i));
    while (!queue.empty()) {
        Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[b.left];
        Symbol& r = symbols[b.right];
        if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale pair
        l.n += r.n;
        r.n = 0;
        l.id = v.find(word.substr(l.start, l.n));
        l.next = r.next;
        if (r.next >= 0) symbols[r.next].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }
    for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
        const Symbol& s = symbols[i];
        if (s.id != kNoToken) {
            out.push_back(s.id);
            continue;
        }
        // A piece that is no token: its single bytes, where those are tokens.
        for (char c : word.substr(s.start, s.n)) {
            if (TokenId id = v.find(std::string_view(&c, 1)); id != kNoToken) out.push_back(id);
        }
    }
}

}  // namespace loom::tokenizer

// SentencePiece-style BPE tokenization.
#include "tokenizer/spm.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace loom::tokenizer {
namespace {

struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t start;  // byte offset in the text
    uint32_t n;      // bytes; 0 once merged into its left neighbour
};

struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;  // bytes of left + right when the pair was queued
};

// Highest score first; among equal scores the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t offset = 0; offset < text.size();) {
        size_t n = std::min(text.size() - offset, utf8_sequence_length(static_cast<uint8_t>(text[offset])));
        auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back(Symbol{index - 1, -1, static_cast<uint32_t>(offset), static_cast<uint32_t>(n)});
        offset += n;
        if (offset < text.size()) symbols.back().next = index + 1;
    }

    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        std::string_view pair = text.substr(l.start, l.n + r.n);
        TokenId id = vocab.find(pair);
        if (id == kNoToken) return;
        queue.push(Bigram{vocab.score(id), left, right, static_cast<uint32_t>(pair.size())});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int32_t>(i) - 1, static_cast<int32_t>(i));

    while (!queue.empty()) {
        Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[b.left];
        Symbol& r = symbols[b.right];
        // Skip pairs made stale by an earlier merge of either side.
        if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
        l.n += r.n;
        r.n = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[r.next].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }

    for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
        const Symbol& s = symbols[i];
        std::string_view piece = text.substr(s.start, s.n);
        TokenId id = vocab.find(piece);
        if (id != kNoToken) {
            out.push_back(id);
            continue;
        }
        // Merged symbols are always tokens; an unknown single character falls back to
        // the tokens of its bytes (a vocabulary with neither byte tokens nor an unknown
        // token drops the byte).
        for (char c : piece) {
            TokenId byte = vocab.byte_token(static_cast<uint8_t>(c));
            if (byte != kNoToken) out.push_back(byte);
        }
    }
}

}  // namespace loom::tokenizer

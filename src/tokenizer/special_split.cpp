// Special-token splitting with a byte trie.
#include "tokenizer/special_split.h"


namespace loom::tokenizer {

SpecialSplitter::SpecialSplitter(const Vocab& vocab)
    : vocab_(&vocab), ranked_(vocab.special_tokens_by_length()) {
    nodes_.push_back(Node{});
    for (size_t rank = 0; rank < ranked_.size(); ++rank) {
        std::string_view text = vocab.text(ranked_[rank]);
        int32_t node = 0;
        for (char c : text) {
            uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
            auto [it, inserted] = edges_.emplace(key, static_cast<int32_t>(nodes_.size()));
            if (inserted) nodes_.push_back(Node{});
            node = it->second;
        }
        // Duplicate texts: the first (longest-first, then lowest id) keeps the node.
        if (nodes_[node].token_rank < 0) nodes_[node].token_rank = static_cast<int32_t>(rank);
    }
}

int32_t SpecialSplitter::child(int32_t node, uint8_t byte) const {
    auto it = edges_.find((static_cast<uint64_t>(node) << 8) | byte);
    return it == edges_.end() ? -1 : it->second;
}

std::vector<Fragment> SpecialSplitter::split(std::string_view text, bool parse_special) const {
    std::vector<Fragment> fragments;
    if (!text.empty()) fragments.push_back(Fragment{kNoToken, 0, text.size()});
    if (ranked_.empty()) return fragments;

    // One trie pass marks which special tokens occur at all.
    std::vector<char> present(ranked_.size(), 0);
    size_t n_present = 0;
    for (size_t start = 0; start < text.size(); ++start) {
        int32_t node = 0;
        for (size_t i = start; i < text.size(); ++i) {
            node = child(node, static_cast<uint8_t>(text[i]));
            if (node < 0) break;
            int32_t rank = nodes_[node].token_rank;
            if (rank >= 0 && !present[rank]) {
                present[rank] = 1;
                ++n_present;
            }
        }
    }
    if (n_present == 0) return fragments;

    // Then each present token, longest first, splits the raw fragments at its
    // occurrences, left to right.
    std::vector<Fragment> next;
    for (size_t rank = 0; rank < ranked_.size(); ++rank) {
        if (!present[rank]) continue;
        TokenId id = ranked_[rank];
        TokenType type = vocab_->type(id);
        if (!parse_special && (type == TokenType::Control || type == TokenType::Unknown)) continue;
        std::string_view needle = vocab_->text(id);
        const bool lstrip = vocab_->lstrip(id);
        const bool rstrip = vocab_->rstrip(id);
        auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
        next.clear();
        for (const Fragment& f : fragments) {
            if (f.token != kNoToken) {
                next.push_back(f);
                continue;
            }
            size_t pos = f.begin;
            while (pos < f.end) {
                size_t match = text.substr(0, f.end).find(needle, pos);
                if (match == std::string_view::npos) break;
                size_t left_end = match;
                if (lstrip) while (left_end > pos && is_space(text[left_end - 1])) --left_end;
                if (left_end > pos) next.push_back(Fragment{kNoToken, pos, left_end});
                next.push_back(Fragment{id, match, match + needle.size()});
                pos = match + needle.size();
                if (rstrip) while (pos < f.end && is_space(text[pos])) ++pos;
            }
            if (pos < f.end) next.push_back(Fragment{kNoToken, pos, f.end});
        }
        fragments.swap(next);
    }
    return fragments;
}

}  // namespace loom::tokenizer

// TokenTrie: a model's vocabulary as a byte trie, built once per model and shared
// (immutable) by every grammar matcher of that model. The grammar mask walks it depth
// first, so the bytes that many tokens share ("▁the", "▁then", "▁there", ...) are
// matched once; a byte the grammar rejects cuts off every token below it at once.
//
//   std::shared_ptr<const TokenTrie> trie = TokenTrie::from_tokenizer(model->tokenizer());
//
// Which tokens are text: a token's bytes are what it prints in generated text
// (Tokenizer::piece without special rendering). Control, unknown and unused tokens print
// nothing and never match grammar text; end-of-generation tokens are kept apart: the
// matcher allows them exactly when the grammar can end. A token longer than 65535 bytes
// (no real vocabulary has one) never matches.
//
// Layout: nodes in depth-first preorder, each with its first byte-depth and the index
// just past its subtree, so a walk needs no child lists and skips a rejected subtree in
// one step. The tokens that end at a node are a contiguous run of tokens_by_node().
//
// Not here: matching (grammar_matcher.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace loom::runtime {

class TokenTrie {
public:
    struct Node {
        uint32_t subtree_end = 0;  // index of the first node after this node's subtree
        uint32_t first_token = 0;  // tokens ending here: [first_token, next node's first_token)
        uint16_t depth = 0;        // bytes from the root: 1 for a token's first byte
        uint8_t byte = 0;
    };

    // pieces[id]: the bytes token id stands for in generated text; empty: never text.
    // eog_ids: end-of-generation tokens (their pieces are ignored).
    TokenTrie(std::span<const std::string> pieces, std::span<const tokenizer::TokenId> eog_ids);

    static std::shared_ptr<const TokenTrie> from_tokenizer(const tokenizer::Tokenizer& tokenizer);

    size_t n_vocab() const { return n_vocab_; }
    bool is_eog(tokenizer::TokenId id) const {
        return id >= 0 && static_cast<size_t>(id) < n_vocab_ && is_eog_[static_cast<size_t>(id)];
    }
    std::span<const tokenizer::TokenId> eog_ids() const { return eog_ids_; }
    // The bytes of a text token; empty for others.
    std::string_view piece(tokenizer::TokenId id) const;

    // The nodes in preorder; node_count() of them, then one sentinel whose first_token
    // ends the last node's run.
    std::span<const Node> nodes() const { return nodes_; }
    size_t node_count() const { return nodes_.size() - 1; }
    std::span<const tokenizer::TokenId> tokens_by_node() const { return tokens_by_node_; }
    size_t max_depth() const { return max_depth_; }

private:
    size_t n_vocab_ = 0;
    std::vector<Node> nodes_;
    std::vector<tokenizer::TokenId> tokens_by_node_;
    std::vector<tokenizer::TokenId> eog_ids_;
    std::vector<bool> is_eog_;
    std::vector<char> piece_bytes_;        // text tokens' bytes back to back
    std::vector<uint64_t> piece_offsets_;  // n_vocab + 1 offsets into piece_bytes_
    size_t max_depth_ = 0;
};

}  // namespace loom::runtime

// Splits raw text at the special tokens it contains (control, user-defined and unknown
// tokens; control and unknown only when parse_special), before the tokenization
// algorithm sees it. The order matches llama.cpp's tokenizer_st_partition: longer token
// texts claim their occurrences first, each token's occurrences are taken left to right
// without overlap, and a later token only matches inside text not yet claimed. One pass
// over the text with a trie finds every occurrence, so the cost does not grow with the
// number of special tokens (Gemma 3 has thousands).
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace loom::tokenizer {

struct Fragment {
    TokenId token = kNoToken;  // a special token, or kNoToken for raw text
    size_t begin = 0;          // raw text byte range
    size_t end = 0;
};

class SpecialSplitter {
public:
    explicit SpecialSplitter(const Vocab& vocab);

    std::vector<Fragment> split(std::string_view text, bool parse_special) const;

private:
    struct Node {
        int32_t token_rank = -1;  // index into ranked_ of the token ending here, or -1
    };
    int32_t child(int32_t node, uint8_t byte) const;

    const Vocab* vocab_;
    std::vector<TokenId> ranked_;        // special tokens, longest first
    std::vector<Node> nodes_;            // trie; node 0 is the root
    std::unordered_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child
};

}  // namespace loom::tokenizer

// Vocab: a model's vocabulary built from GGUF metadata alone (tokenizer.ggml.*): token
// texts, scores and types, the special-token ids and flags with llama.cpp's defaults
// per tokenizer kind, the end-of-generation set, byte-fallback tokens, and BPE merge
// ranks. Owns copies of the texts, so it outlives the GgufFile it came from.
// Not here: the tokenization algorithms (spm.h, bpe.h, wpm.h) and text splitting.
// Spec: ggml docs/gguf.md "Tokenizer"; llama.cpp src/llama-vocab.cpp (behaviour).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/gguf_file.h"

namespace loom::tokenizer {

using TokenId = int32_t;
constexpr TokenId kNoToken = -1;

// tokenizer.ggml.token_type values.
enum class TokenType : uint8_t {
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

enum class VocabKind { Spm, Bpe, Wpm, None };

struct SpecialIds {
    TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
            sep = kNoToken, pad = kNoToken, mask = kNoToken;
    TokenId fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken, fim_pad = kNoToken,
            fim_rep = kNoToken, fim_sep = kNoToken;
};

class Vocab {
public:
    // Throws loom::Error naming the key for a missing token list or an unsupported
    // tokenizer.ggml.model.
    static Vocab from_gguf(const gguf::GgufFile& file);

    Vocab() = default;
    Vocab(Vocab&&) noexcept = default;
    Vocab& operator=(Vocab&&) noexcept = default;
    Vocab(const Vocab&) = delete;  // index_ holds views into texts_
    Vocab& operator=(const Vocab&) = delete;

    VocabKind kind() const { return kind_; }
    std::string_view model_name() const { return model_name_; }  // tokenizer.ggml.model
    std::string_view pre() const { return pre_; }                // tokenizer.ggml.pre
    size_t size() const { return types_.size(); }
    bool contains(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < size(); }

    std::string_view text(TokenId id) const {
        return {texts_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]};
    }
    float score(TokenId id) const { return scores_.empty() ? 0.0f : scores_[id]; }
    TokenType type(TokenId id) const { return types_[id]; }
    bool is_control(TokenId id) const { return types_[id] == TokenType::Control; }
    // End of generation: eos, eot, eom and the model's known end-of-turn tokens.
    bool is_eog(TokenId id) const;
    const std::vector<TokenId>& eog_ids() const { return eog_ids_; }

    // Exact text lookup; kNoToken when absent.
    TokenId find(std::string_view text) const {
        auto it = index_.find(text);
        return it == index_.end() ? kNoToken : it->second;
    }
    // The "<0xXX>" token of a byte (SPM), else the token of the one-byte string, else unk.
    TokenId byte_token(uint8_t byte) const { return byte_tokens_[byte]; }
    // The byte a Byte-type token stands for ("<0x0A>" -> 10).
    uint8_t token_byte(TokenId id) const;

    // BPE: rank of merging left and right (lower merges first), or -1. By token ids
    // when both sides are tokens (the usual case), else by text.
    int32_t merge_rank(TokenId left, TokenId right) const {
        auto it = merge_ranks_by_id_.find((static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
                                          static_cast<uint32_t>(right));
        return it == merge_ranks_by_id_.end() ? -1 : it->second;
    }
    int32_t merge_rank(std::string_view left, std::string_view right) const;
    bool has_text_merges() const { return !merge_ranks_by_text_.empty(); }
    size_t merge_count() const { return n_merges_; }

    const SpecialIds& special() const { return special_; }
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    bool add_space_prefix() const { return add_space_prefix_; }
    // Tokens matched in raw text before tokenization (control, user-defined, unknown),
    // longest text first.
    const std::vector<TokenId>& special_tokens_by_length() const { return special_by_length_; }
    // Whether a special token swallows the whitespace before (lstrip) or after (rstrip)
    // it in the text; llama.cpp sets these by model name (phi-3, jina).
    bool lstrip(TokenId id) const { return !strip_.empty() && (strip_[id] & 1) != 0; }
    bool rstrip(TokenId id) const { return !strip_.empty() && (strip_[id] & 2) != 0; }

private:
    void load_special_ids(const gguf::GgufFile& file);
    void mark_end_of_generation();
    void set_strip_attributes(const gguf::GgufFile& file);

    VocabKind kind_ = VocabKind::None;
    std::string model_name_;
    std::string pre_;
    std::vector<char> texts_;        // all token texts back to back (a vector: moves keep views)
    std::vector<uint64_t> offsets_;  // n_tokens + 1 offsets into texts_
    std::vector<float> scores_;      // empty when the file has none
    std::vector<TokenType> types_;
    std::unordered_map<std::string_view, TokenId> index_;  // views into texts_
    std::array<TokenId, 256> byte_tokens_{};
    std::unordered_map<uint64_t, int32_t> merge_ranks_by_id_;   // (left id, right id) -> rank
    std::unordered_map<std::string, int32_t> merge_ranks_by_text_;  // "left right", sides not tokens
    size_t n_merges_ = 0;
    SpecialIds special_;
    std::vector<TokenId> eog_ids_;
    std::vector<TokenId> special_by_length_;
    std::vector<uint8_t> strip_;  // per token: 1 lstrip, 2 rstrip; empty when none
    bool add_bos_ = false;
    bool add_eos_ = false;
    bool add_space_prefix_ = false;
};

}  // namespace loom::tokenizer

// Vocab construction from GGUF metadata. Defaults per tokenizer kind and the
// end-of-generation heuristics follow llama.cpp so that both tokenize alike.
#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <cstdio>

#include "core/error.h"
#include "tokenizer/pre_tokenizer.h"

namespace loom::tokenizer {
namespace {

// Texts that mark an end-of-turn token when the file names none (llama.cpp does the
// same; such tokens become control tokens).
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
    "_<EOT>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
    "<end_of_utterance>",
};
// Tokens that end generation when present; llama.cpp also makes each a control token
// (so it is not matched in plain text unless special tokens are parsed).
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>",
    "<end_of_utterance>", "</s>",
};

}  // namespace

void Vocab::load_special_ids(const gguf::GgufFile& file) {
    struct Key {
        std::string_view key;
        TokenId SpecialIds::*id;
    };
    static constexpr Key keys[] = {
        {"tokenizer.ggml.bos_token_id", &SpecialIds::bos},
        {"tokenizer.ggml.eos_token_id", &SpecialIds::eos},
        {"tokenizer.ggml.eot_token_id", &SpecialIds::eot},
        {"tokenizer.ggml.eom_token_id", &SpecialIds::eom},
        {"tokenizer.ggml.unknown_token_id", &SpecialIds::unk},
        {"tokenizer.ggml.seperator_token_id", &SpecialIds::sep},
        {"tokenizer.ggml.padding_token_id", &SpecialIds::pad},
        {"tokenizer.ggml.mask_token_id", &SpecialIds::mask},
        {"tokenizer.ggml.fim_pre_token_id", &SpecialIds::fim_pre},
        {"tokenizer.ggml.fim_suf_token_id", &SpecialIds::fim_suf},
        {"tokenizer.ggml.fim_mid_token_id", &SpecialIds::fim_mid},
        {"tokenizer.ggml.fim_pad_token_id", &SpecialIds::fim_pad},
        {"tokenizer.ggml.fim_rep_token_id", &SpecialIds::fim_rep},
        {"tokenizer.ggml.fim_sep_token_id", &SpecialIds::fim_sep},
    };
    for (const Key& k : keys) {
        const gguf::Value* value = file.find(k.key);
        int64_t id = -1;
        if (value == nullptr || !value->as_int64(id)) continue;
        // An id outside the vocabulary leaves the default in place (llama.cpp warns the same).
        if (id >= 0 && static_cast<uint64_t>(id) < size()) special_.*(k.id) = static_cast<TokenId>(id);
    }
}

void Vocab::mark_end_of_generation() {
    if (special_.eot == kNoToken) {
        for (std::string_view t : kEotTexts) {
            if (TokenId id = find(t); id != kNoToken) {
                special_.eot = id;
                types_[id] = TokenType::Control;
                break;
            }
        }
    }
    if (special_.eom == kNoToken) special_.eom = find("<|eom_id|>");
    auto add = [this](TokenId id) {
        if (id != kNoToken && std::find(eog_ids_.begin(), eog_ids_.end(), id) == eog_ids_.end()) {
            eog_ids_.push_back(id);
        }
    };
    add(special_.eos);
    add(special_.eot);
    add(special_.eom);
    for (std::string_view t : kEogTexts) {
        TokenId id = find(t);
        if (id == kNoToken) continue;
        types_[id] = TokenType::Control;
        add(id);
    }
}

void Vocab::set_strip_attributes(const gguf::GgufFile& file) {
    auto lower = [](std::string_view s) {
        std::string out(s);
        for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    };
    std::string name = lower(file.find_string("general.name").value_or(""));
    std::string arch(file.architecture());
    auto contains_any = [](const std::string& s, std::initializer_list<std::string_view> parts) {
        for (std::string_view p : parts) {
            if (s.find(p) != std::string::npos) return true;
        }
        return false;
    };
    auto set = [this](TokenId id, uint8_t bit, bool on) {
        if (id == kNoToken) return;
        if (strip_.empty()) strip_.assign(size(), 0);
        strip_[id] = static_cast<uint8_t>(on ? (strip_[id] | bit) : (strip_[id] & ~bit));
    };
    if (contains_any(pre_, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
        contains_any(arch, {"nomic-bert-moe", "jina-bert-v3"})) {
        set(find("<mask>"), 1, true);
    } else if (contains_any(name, {"phi-3", "phi3"})) {
        for (TokenId id : special_by_length_) set(id, 2, true);
        set(find("</s>"), 2, true);
        for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set(find(t), 2, false);
    }
}

bool Vocab::is_eog(TokenId id) const {
    return std::find(eog_ids_.begin(), eog_ids_.end(), id) != eog_ids_.end();
}

uint8_t Vocab::token_byte(TokenId id) const {
    std::string_view t = text(id);
    unsigned value = 0;
    if (t.size() == 6 && t.substr(0, 3) == "<0x" && t.back() == '>' &&
        std::sscanf(std::string(t.substr(3, 2)).c_str(), "%2x", &value) == 1) {
        return static_cast<uint8_t>(value);
    }
    return t.empty() ? 0 : static_cast<uint8_t>(t[0]);
}

int32_t Vocab::merge_rank(std::string_view left, std::string_view right) const {
    std::string key;
    key.reserve(left.size() + 1 + right.size());
    key.append(left).append(1, ' ').append(right);
    auto it = merge_ranks_by_text_.find(key);
    if (it != merge_ranks_by_text_.end()) return it->second;
    TokenId l = find(left);
    TokenId r = find(right);
    return l != kNoToken && r != kNoToken ? merge_rank(l, r) : -1;
}

Vocab Vocab::from_gguf(const gguf::GgufFile& file) {
    Vocab v;
    auto model = file.find_string("tokenizer.ggml.model");
    if (!model) file.fail_key("tokenizer.ggml.model", "missing: the file has no tokenizer", ErrorCode::NotFound);
    v.model_name_ = std::string(*model);
    v.pre_ = std::string(file.find_string("tokenizer.ggml.pre").value_or(""));
    if (v.model_name_ == "llama") {
        v.kind_ = VocabKind::Spm;
        v.special_.bos = 1;
        v.special_.eos = 2;
        v.special_.unk = 0;
        v.add_bos_ = true;
        v.add_space_prefix_ = true;
    } else if (v.model_name_ == "gpt2") {
        v.kind_ = VocabKind::Bpe;
        v.special_.bos = 11;
        v.special_.eos = 11;
        const PreTokenizerSpec* spec = find_pre_tokenizer(v.pre_);
        v.add_bos_ = spec != nullptr && spec->add_bos;
    } else if (v.model_name_ == "bert") {
        v.kind_ = VocabKind::Wpm;
        v.special_.bos = 101;
        v.special_.unk = 100;
        v.special_.sep = 102;
        v.special_.pad = 0;
        v.special_.mask = 103;
        v.add_bos_ = true;
        v.add_eos_ = false;
    } else if (v.model_name_ == "no_vocab" || v.model_name_ == "none") {
        v.kind_ = VocabKind::None;
        return v;
    } else {
        file.fail_key("tokenizer.ggml.model",
                      "tokenizer \"" + v.model_name_ + "\" is not supported (supported: llama, gpt2, bert)",
                      ErrorCode::Unsupported);
    }

    const gguf::Array& tokens = file.get_array("tokenizer.ggml.tokens", gguf::ValueType::String);
    size_t n = tokens.strings.size();
    size_t total = 0;
    for (auto t : tokens.strings) total += t.size();
    v.texts_.reserve(total);
    v.offsets_.reserve(n + 1);
    v.offsets_.push_back(0);
    for (auto t : tokens.strings) {
        v.texts_.insert(v.texts_.end(), t.begin(), t.end());
        v.offsets_.push_back(v.texts_.size());
    }
    if (file.has("tokenizer.ggml.scores")) {
        const gguf::Array& scores = file.get_array("tokenizer.ggml.scores", gguf::ValueType::F32);
        v.scores_.resize(scores.count);
        for (uint64_t i = 0; i < scores.count; ++i) v.scores_[i] = scores.fixed<float>(i);
    }
    v.types_.assign(n, TokenType::Normal);
    if (file.has("tokenizer.ggml.token_type")) {
        const gguf::Array& types = file.get_array("tokenizer.ggml.token_type", gguf::ValueType::I32);
        for (uint64_t i = 0; i < types.count; ++i) {
            int32_t t = types.fixed<int32_t>(i);
            v.types_[i] = (t >= 0 && t <= 6) ? static_cast<TokenType>(t) : TokenType::Undefined;
        }
    }
    v.index_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        // First occurrence wins for duplicate texts, as in a forward scan of the list.
        v.index_.emplace(v.text(static_cast<TokenId>(i)), static_cast<TokenId>(i));
    }
    if (file.has("tokenizer.ggml.merges")) {
        const gguf::Array& merges = file.get_array("tokenizer.ggml.merges", gguf::ValueType::String);
        v.n_merges_ = merges.strings.size();
        v.merge_ranks_by_id_.reserve(merges.strings.size());
        for (size_t i = 0; i < merges.strings.size(); ++i) {
            std::string_view merge = merges.strings[i];
            size_t space = merge.find(' ', 1);  // a side may itself start with a space
            if (space == std::string_view::npos) continue;  // malformed entry: no merge
            std::string_view left = merge.substr(0, space);
            std::string_view right = merge.substr(space + 1);
            TokenId l = v.find(left);
            TokenId r = v.find(right);
            auto rank = static_cast<int32_t>(i);
            if (l != kNoToken && r != kNoToken) {
                uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
                v.merge_ranks_by_id_.emplace(key, rank);  // the first listing of a pair wins
            } else {
                v.merge_ranks_by_text_.emplace(std::string(merge), rank);
            }
        }
    }

    v.load_special_ids(file);
    if (auto b = file.find("tokenizer.ggml.add_bos_token"); b && b->get_if<bool>()) v.add_bos_ = *b->get_if<bool>();
    if (auto b = file.find("tokenizer.ggml.add_eos_token"); b && b->get_if<bool>()) v.add_eos_ = *b->get_if<bool>();
    if (auto b = file.find("tokenizer.ggml.add_space_prefix"); b && b->get_if<bool>()) {
        v.add_space_prefix_ = *b->get_if<bool>();
    }
    for (TokenId* id : {&v.special_.bos, &v.special_.eos, &v.special_.unk, &v.special_.sep,
                        &v.special_.pad, &v.special_.mask}) {
        if (!v.contains(*id)) *id = kNoToken;
    }

    for (int b = 0; b < 256; ++b) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "<0x%02X>", b);
        TokenId id = v.find(hex);
        if (id == kNoToken) id = v.find(std::string(1, static_cast<char>(b)));
        v.byte_tokens_[b] = id != kNoToken ? id : v.special_.unk;
    }

    v.mark_end_of_generation();
    for (size_t i = 0; i < n; ++i) {
        TokenType t = v.types_[i];
        bool special = t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
        if (special && !v.text(static_cast<TokenId>(i)).empty()) {
            v.special_by_length_.push_back(static_cast<TokenId>(i));
        }
    }
    std::stable_sort(v.special_by_length_.begin(), v.special_by_length_.end(),
                     [&v](TokenId a, TokenId b) { return v.text(a).size() > v.text(b).size(); });
    v.set_strip_attributes(file);
    return v;
}

}  // namespace loom::tokenizer

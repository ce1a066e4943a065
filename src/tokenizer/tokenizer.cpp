// Tokenizer facade: special-token split, BOS/EOS, dispatch by vocabulary kind, decoding.
#include "tokenizer/tokenizer.h"

#include <limits>

#include "core/error.h"
#include "tokenizer/spm.h"
#include "tokenizer/utf8.h"

namespace loom::tokenizer {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581, SentencePiece's space

std::string escape_spaces(std::string_view text, bool add_prefix) {
    std::string out;
    out.reserve(text.size() + 3 * (add_prefix ? 1 : 0) + text.size() / 4);
    if (add_prefix) out += kSpaceMark;
    for (char c : text) {
        if (c == ' ') {
            out += kSpaceMark;
        } else {
            out += c;
        }
    }
    return out;
}

std::string unescape_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
            out += ' ';
            i += kSpaceMark.size();
        } else {
            out += text[i++];
        }
    }
    return out;
}

// Hugging Face's clean_up_tokenization_spaces, as llama.cpp applies it when decoding:
// " ?", " !", " .", " ," lose the space; " ' " between spaces loses both spaces;
// " 's", " 'm", " 're", " 've" lose the space.
void clean_up_spaces(std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == ' ' && i + 1 < text.size()) {
            char x = text[i + 1];
            if (x == '?' || x == '!' || x == '.' || x == ',') continue;
        }
        out += c;
    }
    std::string pass2;
    pass2.reserve(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
        if (i > 0 && out[i] == '\'' && i + 1 < out.size() && out[i - 1] == ' ' && out[i + 1] == ' ') {
            pass2.pop_back();
            pass2 += '\'';
            ++i;  // drop the following space
            continue;
        }
        pass2 += out[i];
    }
    std::string pass3;
    pass3.reserve(pass2.size());
    for (size_t i = 0; i < pass2.size(); ++i) {
        if (pass2[i] == ' ' && i + 2 < pass2.size() && pass2[i + 1] == '\'') {
            char a = pass2[i + 2];
            char b = i + 3 < pass2.size() ? pass2[i + 3] : '\0';
            if (a == 's' || a == 'm' || (a == 'r' && b == 'e') || (a == 'v' && b == 'e')) continue;
        }
        pass3 += pass2[i];
    }
    text.swap(pass3);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab)
    : vocab_(std::make_unique<Vocab>(std::move(vocab))), splitter_(*vocab_) {}

Tokenizer Tokenizer::from_gguf(const gguf::GgufFile& file, const TokenizerOptions& options) {
    Vocab vocab = Vocab::from_gguf(file);
    if (vocab.kind() == VocabKind::None) {
        file.fail_key("tokenizer.ggml.model", "the model has no vocabulary (\"" +
                                                  std::string(vocab.model_name()) + "\")",
                      ErrorCode::Unsupported);
    }
    const PreTokenizerSpec* spec = nullptr;
    if (vocab.kind() == VocabKind::Bpe) {
        spec = find_pre_tokenizer(vocab.pre());
        if (spec == nullptr && !options.fallback_pre.empty()) spec = find_pre_tokenizer(options.fallback_pre);
        if (spec == nullptr) {
            std::string known;
            for (const PreTokenizerSpec& s : pre_tokenizers()) {
                for (auto alias : s.aliases) known += (known.empty() ? "" : ", ") + std::string(alias);
            }
            file.fail_key("tokenizer.ggml.pre",
                          "unknown pre-tokenizer \"" + std::string(vocab.pre()) +
                              "\" (known: " + known + "); force one with --pre-fallback NAME, at the "
                              "cost of tokenizing differently from the model",
                          ErrorCode::Unsupported);
        }
    }
    Tokenizer tok(std::move(vocab));
    if (spec != nullptr) tok.bpe_ = std::make_unique<BpeEncoder>(*tok.vocab_, *spec);
    if (tok.vocab_->kind() == VocabKind::Wpm) tok.wpm_ = std::make_unique<WpmEncoder>(*tok.vocab_);
    return tok;
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
    if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        throw Error(ErrorCode::InvalidArgument,
                    "text of " + std::to_string(text.size()) + " bytes is too long to tokenize "
                    "(at most 2 GiB)");
    }
    const Vocab& v = *vocab_;
    std::vector<TokenId> out;
    out.reserve(text.size() / 3 + 2);
    // WordPiece models always frame the text with [CLS] ... [SEP] (llama.cpp does too).
    bool wpm = v.kind() == VocabKind::Wpm;
    if (add_special && (v.add_bos() || wpm) && v.special().bos != kNoToken) out.push_back(v.special().bos);
    bool prev_special = true;  // the space prefix goes before the first text fragment
    for (const Fragment& f : splitter_.split(text, parse_special)) {
        if (f.token != kNoToken) {
            out.push_back(f.token);
            prev_special = true;
            continue;
        }
        std::string_view fragment = text.substr(f.begin, f.end - f.begin);
        if (bpe_) {
            bpe_->encode(fragment, out);
        } else if (wpm_) {
            wpm_->encode(fragment, out);
        } else {
            spm_tokenize(v, escape_spaces(fragment, v.add_space_prefix() && prev_special), out);
        }
        prev_special = false;
    }
    if (add_special && wpm && v.special().sep != kNoToken) {
        out.push_back(v.special().sep);
    } else if (add_special && v.add_eos() && v.special().eos != kNoToken) {
        out.push_back(v.special().eos);
    }
    return out;
}

std::string Tokenizer::piece(TokenId id, bool render_special) const {
    const Vocab& v = *vocab_;
    if (!v.contains(id)) return {};
    switch (v.type(id)) {
        case TokenType::Control:
        case TokenType::Unknown:
            return render_special ? std::string(v.text(id)) : std::string();
        case TokenType::UserDefined:
            return std::string(v.text(id));
        case TokenType::Normal:
            return bpe_ ? unicode_to_bytes(v.text(id)) : unescape_spaces(v.text(id));
        case TokenType::Byte:
            return std::string(1, static_cast<char>(v.token_byte(id)));
        case TokenType::Unused:
        case TokenType::Undefined:
            return {};
    }
    return {};
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool remove_special,
                              bool render_special) const {
    const Vocab& v = *vocab_;
    bool remove_space = v.add_space_prefix();
    if (remove_special && v.add_bos() && !ids.empty() && ids.front() == v.special().bos) {
        remove_space = false;
        ids = ids.subspan(1);
    }
    if (remove_special && v.add_eos() && !ids.empty() && ids.back() == v.special().eos) {
        ids = ids.subspan(0, ids.size() - 1);
    }
    std::string out;
    for (TokenId id : ids) {
        std::string p = piece(id, render_special);
        if (remove_space && !p.empty() && p.front() == ' ') p.erase(0, 1);
        remove_space = false;
        out += p;
    }
    if (bpe_ && bpe_->spec().clean_spaces) clean_up_spaces(out);
    return out;
}

std::string StreamDecoder::push(std::string_view piece) {
    pending_ += piece;
    size_t complete = utf8_complete_prefix(pending_);
    std::string ready = pending_.substr(0, complete);
    pending_.erase(0, complete);
    return ready;
}

std::string StreamDecoder::finish() {
    std::string rest;
    rest.swap(pending_);
    return rest;
}

}  // namespace loom::tokenizer

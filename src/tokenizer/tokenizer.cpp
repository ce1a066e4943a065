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

}  // namespace

Tokenizer::Tokenizer(Vocab vocab)
    : vocab_(std::make_unique<Vocab>(std::move(vocab))), splitter_(*vocab_) {}

Tokenizer Tokenizer::from_gguf(const gguf::GgufFile& file) {
    Vocab vocab = Vocab::from_gguf(file);
    if (vocab.kind() != VocabKind::Spm) {
        file.fail_key("tokenizer.ggml.model",
                      "tokenizer \"" + std::string(vocab.model_name()) +
                          "\" is not implemented yet (implemented: llama)",
                      ErrorCode::Unsupported);
    }
    return Tokenizer(std::move(vocab));
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
    if (add_special && v.add_bos() && v.special().bos != kNoToken) out.push_back(v.special().bos);
    bool prev_special = true;  // the space prefix goes before the first text fragment
    for (const Fragment& f : splitter_.split(text, parse_special)) {
        if (f.token != kNoToken) {
            out.push_back(f.token);
            prev_special = true;
            continue;
        }
        std::string escaped = escape_spaces(text.substr(f.begin, f.end - f.begin),
                                            v.add_space_prefix() && prev_special);
        spm_tokenize(v, escaped, out);
        prev_special = false;
    }
    if (add_special && v.add_eos() && v.special().eos != kNoToken) out.push_back(v.special().eos);
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
            return unescape_spaces(v.text(id));
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

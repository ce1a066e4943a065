// Tokenizer: text <-> token ids for a model, built from GGUF metadata alone (vocab-only
// files work). Splits out special tokens, adds BOS/EOS as the model says, runs the
// model's algorithm (SentencePiece-style, byte-level BPE or WordPiece), and turns ids back into text.
//
//   auto tok = loom::tokenizer::Tokenizer::from_gguf(file);
//   std::vector<TokenId> ids = tok.encode("Hello", /*add_special=*/true, /*parse_special=*/false);
//   std::string text = tok.decode(ids);
//
// Errors: from_gguf throws loom::Error (NotFound, Unsupported) for a file without a
// tokenizer or with a kind Loom does not implement; encode throws InvalidArgument for
// text over 2 GiB. Invalid UTF-8 is never an error: SentencePiece vocabularies tokenize
// it byte by byte (byte fallback); byte-level BPE sees each invalid sequence as U+FFFD,
// as llama.cpp does (and surrogates or values above U+10FFFF as U+FFFD too).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "tokenizer/bpe.h"
#include "tokenizer/special_split.h"
#include "tokenizer/wpm.h"
#include "tokenizer/vocab.h"

namespace loom::tokenizer {

struct TokenizerOptions {
    // A tokenizer.ggml.pre that Loom does not know is an error unless this names a
    // known one to use instead (e.g. "default", "llama3"); text may then tokenize
    // differently from the model's own tokenizer.
    std::string fallback_pre;
};

class Tokenizer {
public:
    static Tokenizer from_gguf(const gguf::GgufFile& file, const TokenizerOptions& options = {});

    Tokenizer(Tokenizer&&) noexcept = default;
    Tokenizer& operator=(Tokenizer&&) noexcept = default;

    const Vocab& vocab() const { return *vocab_; }

    // add_special: BOS/EOS as the model's metadata says. parse_special: control tokens
    // written in the text (e.g. "<start_of_turn>") become their ids; user-defined
    // tokens always do.
    std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const;

    // The text of one token. Control and unknown tokens give "" unless render_special.
    std::string piece(TokenId id, bool render_special) const;

    // Concatenated pieces; remove_special drops a leading BOS and trailing EOS that
    // encode(add_special=true) would add; the space prefix added by the tokenizer is
    // removed from the first piece.
    std::string decode(std::span<const TokenId> ids, bool remove_special = false,
                       bool render_special = false) const;

private:
    explicit Tokenizer(Vocab vocab);

    std::unique_ptr<Vocab> vocab_;  // stable address for the splitter and encoder
    SpecialSplitter splitter_;
    std::unique_ptr<BpeEncoder> bpe_;  // byte-level BPE vocabularies only
    std::unique_ptr<WpmEncoder> wpm_;  // WordPiece vocabularies only
};

// Streaming detokenizer: feed pieces as tokens arrive, get back only complete UTF-8
// characters; finish() returns whatever is left (possibly invalid bytes).
class StreamDecoder {
public:
    std::string push(std::string_view piece);
    std::string finish();

private:
    std::string pending_;
};

}  // namespace loom::tokenizer

// Byte-level BPE pre-tokenizers: the regex lists that split text into words before BPE
// merges, one entry per tokenizer.ggml.pre value, as data. Each regex of a list splits
// every fragment the previous ones produced, keeping both matches and the text between
// them (llama.cpp's unicode_regex_split). Regexes run on PCRE2 in UTF + UCP mode; \s
// and \S are rewritten to Unicode White_Space, as llama.cpp's own matcher defines them.
// Input must be valid UTF-8 (see utf8_sanitize).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace loom::tokenizer {

struct PreTokenizerSpec {
    std::string_view name;                  // canonical name
    std::span<const std::string_view> aliases;  // tokenizer.ggml.pre values
    std::span<const std::string_view> regexes;
    bool ignore_merges;  // a word that is itself a token is emitted whole (Llama 3)
    bool add_bos;        // default for tokenizer.ggml.add_bos_token
    bool clean_spaces;   // decode removes spaces before punctuation (HF clean_up_tokenization_spaces)
};

// The spec for a tokenizer.ggml.pre value ("" means default), or nullptr if unknown.
const PreTokenizerSpec* find_pre_tokenizer(std::string_view pre);
// Every spec, for tests and error messages.
std::span<const PreTokenizerSpec> pre_tokenizers();

class PreTokenizer {
public:
    // Throws loom::Error(InvalidArgument) if a regex does not compile.
    explicit PreTokenizer(const PreTokenizerSpec& spec);
    ~PreTokenizer();
    PreTokenizer(PreTokenizer&&) noexcept;
    PreTokenizer& operator=(PreTokenizer&&) noexcept;

    // Word boundaries of text as [begin, end) byte ranges covering all of it, in order.
    std::vector<std::pair<size_t, size_t>> split(std::string_view text) const;

    const PreTokenizerSpec& spec() const { return *spec_; }

private:
    struct Compiled;
    const PreTokenizerSpec* spec_;
    std::vector<std::unique_ptr<Compiled>> regexes_;
};

}  // namespace loom::tokenizer

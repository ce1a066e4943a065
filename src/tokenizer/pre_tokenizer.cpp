// Pre-tokenizer table and the PCRE2 splitter. The regexes are the published
// pre-tokenizer definitions of each model family (HF tokenizer.json), in the adapted
// forms llama.cpp uses, so that both split text identically.
#include "tokenizer/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>

#include "core/error.h"

namespace loom::tokenizer {
namespace {

using Names = std::string_view;

// Unicode White_Space: what \s means in the Unicode-aware regexes.
constexpr std::string_view kUnicodeSpace =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

constexpr std::string_view kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr std::string_view kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kTekken =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|"
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kGpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kBloom = " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81"
                                    "\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+";
constexpr std::string_view kCjk = "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+";
constexpr std::string_view kDeepseekLetters =
    "\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf"
    "\xc7\x84-\xca\x93\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-\xcd\xbd"
    "\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-"
    "\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85\xe1\x8e\xa0-"
    "\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-\xe1\xb2\xbf"
    "\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7\xe1\xb5\xb9-\xe1\xb6\x9a\xe1\xb8\x80-"
    "\xe1\xbc\x95\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-\xe1\xbd\x85\xe1\xbd\x88-\xe1\xbd\x8d"
    "\xe1\xbd\x90-\xe1\xbd\x97\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd"
    "\xe1\xbe\x80-\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe\xe1\xbf\x82-\xe1\xbf\x84"
    "\xe1\xbf\x86-\xe1\xbf\x8c\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b\xe1\xbf\xa0-"
    "\xe1\xbf\xac\xe1\xbf\xb2-\xe1\xbf\xb4\xe1\xbf\xb6-\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87"
    "\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-\xe2\x84\x9d\xe2\x84\xa4\xe2\x84\xa6"
    "\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad\xe2\x84\xaf-\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-"
    "\xe2\x84\xbf\xe2\x85\x85-\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84\xe2\xb0\x80-"
    "\xe2\xb1\xbb\xe2\xb1\xbe-\xe2\xb3\xa4\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3"
    "\xea\x99\x80-\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b\xea\x9c\xa2-\xea\x9d\xaf\xea\x9d\xb1-"
    "\xea\x9e\x87\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf\xef\xac\x80-\xef\xac\x86"
    "\xef\xac\x93-\xef\xac\x97\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-\xef\xbd\x9a"
    "\xf0\x90\x90\x80-\xf0\x90\x91\x8f\xf0\x90\x92\xb0-\xf0\x90\x93\x93\xf0\x90\x93\x98-"
    "\xf0\x90\x93\xbb\xf0\x90\xb2\x80-\xf0\x90\xb2\xb2\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2"
    "\xf0\x91\xa2\xa0-\xf0\x91\xa3\x9f\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+";
constexpr std::string_view kDeepseekPunct =
    "\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f"
    "\xe3\x80\x80-\xe3\x80\x82]+";

constexpr std::array<Names, 1> kGpt2Regexes = {kGpt2};
constexpr std::array<Names, 1> kLlama3Regexes = {kLlama3};
constexpr std::array<Names, 1> kQwen2Regexes = {kQwen2};
constexpr std::array<Names, 1> kTekkenRegexes = {kTekken};
constexpr std::array<Names, 1> kGpt4oRegexes = {kGpt4o};
constexpr std::array<Names, 2> kStarcoderRegexes = {"\\p{N}", kGpt2};
constexpr std::array<Names, 3> kFalconRegexes = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"};
constexpr std::array<Names, 4> kDefaultRegexes = {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+",
                                                  "[0-9][0-9][0-9]"};
constexpr std::array<Names, 6> kDeepseekLlmRegexes = {"[\\r\\n]", kDeepseekLetters, kDeepseekPunct,
                                                       "\\s+$", kCjk, "\\p{N}+"};
constexpr std::array<Names, 5> kDeepseekCoderRegexes = {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                                                        kCjk, "\\p{N}"};
constexpr std::array<Names, 1> kBloomRegexes = {kBloom};
constexpr std::array<Names, 2> kVikingRegexes = {kBloom, "\\p{N}"};

constexpr std::array<Names, 1> kDefaultNames = {"default"};
constexpr std::array<Names, 8> kLlama3Names = {"llama3", "llama-v3", "llama-bpe", "falcon3",
                                               "falcon-h1", "pixtral", "midm-2.0", "lfm2"};
constexpr std::array<Names, 2> kDbrxNames = {"dbrx", "smaug-bpe"};
constexpr std::array<Names, 13> kGpt2Names = {"gpt-2", "phi-2", "mpt", "olmo", "jais",
                                              "jina-es", "jina-de", "gigachat", "jina-v2-es",
                                              "jina-v2-de", "jina-v1-en", "jina-v2-code",
                                              "roberta-bpe"};
constexpr std::array<Names, 5> kQwen2Names = {"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez",
                                              "hunyuan"};
constexpr std::array<Names, 5> kStarcoderNames = {"starcoder", "refact", "codeshell", "exaone",
                                                  "minerva-7b"};
constexpr std::array<Names, 2> kCommandRNames = {"command-r", "smollm"};
constexpr std::array<Names, 1> kFalconNames = {"falcon"};
constexpr std::array<Names, 1> kDeepseekLlmNames = {"deepseek-llm"};
constexpr std::array<Names, 1> kDeepseekCoderNames = {"deepseek-coder"};
constexpr std::array<Names, 2> kBloomNames = {"bloom", "gpt3-finnish"};
constexpr std::array<Names, 1> kPoroNames = {"poro-chat"};
constexpr std::array<Names, 1> kVikingNames = {"viking"};
constexpr std::array<Names, 2> kChatglmNames = {"chatglm-bpe", "glm4"};
constexpr std::array<Names, 1> kTekkenNames = {"tekken"};
constexpr std::array<Names, 2> kGpt4oNames = {"gpt-4o", "llama4"};

constexpr std::array<PreTokenizerSpec, 16> kSpecs = {{
    // name, aliases, regexes, ignore_merges, add_bos, clean_spaces
    {"default", kDefaultNames, kDefaultRegexes, false, false, true},
    {"llama3", kLlama3Names, kLlama3Regexes, true, true, true},
    {"dbrx", kDbrxNames, kLlama3Regexes, false, false, true},  // llama3's split, no BOS
    {"gpt2", kGpt2Names, kGpt2Regexes, false, false, true},
    {"qwen2", kQwen2Names, kQwen2Regexes, false, false, false},
    {"starcoder", kStarcoderNames, kStarcoderRegexes, false, false, true},
    {"command-r", kCommandRNames, kStarcoderRegexes, false, false, false},
    {"falcon", kFalconNames, kFalconRegexes, false, false, true},
    {"deepseek-llm", kDeepseekLlmNames, kDeepseekLlmRegexes, false, false, false},
    {"deepseek-coder", kDeepseekCoderNames, kDeepseekCoderRegexes, false, false, false},
    {"bloom", kBloomNames, kBloomRegexes, false, false, true},
    {"poro", kPoroNames, kBloomRegexes, false, false, false},
    {"viking", kVikingNames, kVikingRegexes, false, false, true},
    {"chatglm4", kChatglmNames, kLlama3Regexes, false, false, true},
    {"tekken", kTekkenNames, kTekkenRegexes, true, true, false},
    {"gpt-4o", kGpt4oNames, kGpt4oRegexes, false, false, false},
}};

// Rewrites \s and \S to explicit classes of Unicode White_Space: llama.cpp maps every
// non-ASCII whitespace character to one its regex engine counts as \s (checked against
// it on the deepseek-llm and bloom-style splits).
std::string rewrite_spaces(std::string_view regex) {
    std::string_view space = kUnicodeSpace;
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < regex.size(); ++i) {
        char c = regex[i];
        if (c == '\\' && i + 1 < regex.size()) {
            char e = regex[i + 1];
            if (e == 's') {
                out += in_class ? std::string(space) : "[" + std::string(space) + "]";
            } else if (e == 'S' && !in_class) {
                out += "[^" + std::string(space) + "]";
            } else {
                out += c;
                out += e;
            }
            ++i;
            continue;
        }
        if (c == '[' && !in_class) in_class = true;
        else if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

}  // namespace

// Non-ASCII whitespace replaced by a stand-in of the same UTF-8 length that \s matches
// and no explicit class of the table contains: U+0085 for 2-byte, U+2000 for 3-byte.
static std::string whitespace_stand_in(std::string_view text) {
    std::string out(text);
    for (size_t i = 0; i + 1 < out.size(); ++i) {
        auto c = static_cast<unsigned char>(out[i]);
        auto d = static_cast<unsigned char>(out[i + 1]);
        if (c == 0xC2 && (d == 0x85 || d == 0xA0)) {
            out[i + 1] = static_cast<char>(0x85);
        } else if (i + 2 < out.size() && (c == 0xE1 || c == 0xE2 || c == 0xE3)) {
            auto e = static_cast<unsigned char>(out[i + 2]);
            bool space = (c == 0xE1 && d == 0x9A && e == 0x80) ||                       // U+1680
                         (c == 0xE2 && d == 0x80 && (e <= 0x8A || e == 0xA8 || e == 0xA9 || e == 0xAF)) ||
                         (c == 0xE2 && d == 0x81 && e == 0x9F) ||                       // U+205F
                         (c == 0xE3 && d == 0x80 && e == 0x80);                         // U+3000
            if (space) {
                out[i] = static_cast<char>(0xE2);
                out[i + 1] = static_cast<char>(0x80);
                out[i + 2] = static_cast<char>(0x80);
            }
        }
    }
    return out;
}

std::span<const PreTokenizerSpec> pre_tokenizers() { return kSpecs; }

const PreTokenizerSpec* find_pre_tokenizer(std::string_view pre) {
    if (pre.empty()) pre = "default";
    for (const PreTokenizerSpec& spec : kSpecs) {
        for (std::string_view alias : spec.aliases) {
            if (alias == pre) return &spec;
        }
    }
    return nullptr;
}

struct PreTokenizer::Compiled {
    pcre2_code* code = nullptr;
    // Without \p{..} llama.cpp matches on text whose non-ASCII whitespace is one stand-in
    // (so an explicit class such as deepseek's U+3000-U+3002 does not see U+3000).
    bool plain = false;
    ~Compiled() {
        if (code != nullptr) pcre2_code_free(code);
    }
};

PreTokenizer::PreTokenizer(const PreTokenizerSpec& spec) : spec_(&spec) {
    for (std::string_view regex : spec.regexes) {
        std::string pattern = rewrite_spaces(regex);
        int error = 0;
        PCRE2_SIZE error_offset = 0;
        auto compiled = std::make_unique<Compiled>();
        compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error,
                                       &error_offset, nullptr);
        if (compiled->code == nullptr) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error, message, sizeof message);
            throw Error(ErrorCode::InvalidArgument,
                        "pre-tokenizer " + std::string(spec.name) + ": regex does not compile at " +
                            std::to_string(error_offset) + ": " + reinterpret_cast<char*>(message));
        }
        pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // interpreter if JIT is unavailable
        compiled->plain = regex.find("\\p{") == std::string_view::npos;
        regexes_.push_back(std::move(compiled));
    }
}

PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

std::vector<std::pair<size_t, size_t>> PreTokenizer::split(std::string_view text) const {
    std::vector<std::pair<size_t, size_t>> words;
    if (text.empty()) return words;
    words.emplace_back(0, text.size());
    std::vector<std::pair<size_t, size_t>> next;
    std::string stand_in;  // text with non-ASCII whitespace replaced, same byte offsets
    bool stand_in_ready = false;
    for (const auto& regex : regexes_) {
        std::string_view subject_text = text;
        if (regex->plain) {
            if (!stand_in_ready) {
                stand_in = whitespace_stand_in(text);
                stand_in_ready = true;
            }
            subject_text = stand_in;
        }
        pcre2_match_data* match = pcre2_match_data_create_from_pattern(regex->code, nullptr);
        next.clear();
        for (auto [begin, end] : words) {
            auto subject = reinterpret_cast<PCRE2_SPTR>(subject_text.data() + begin);
            size_t length = end - begin;
            size_t pos = 0;   // where the next search starts
            size_t last = 0;  // end of the last word emitted
            while (pos < length) {
                int rc = pcre2_match(regex->code, subject, length, pos, PCRE2_NO_UTF_CHECK, match, nullptr);
                if (rc < 0) break;  // no further match (errors cannot occur on valid UTF-8)
                PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
                size_t m_begin = ovector[0];
                size_t m_end = ovector[1];
                if (m_end == m_begin) {
                    // An empty match splits nothing: search again one character later.
                    ++pos;
                    while (pos < length && (static_cast<uint8_t>(text[begin + pos]) & 0xC0) == 0x80) ++pos;
                    continue;
                }
                if (m_begin > last) next.emplace_back(begin + last, begin + m_begin);
                next.emplace_back(begin + m_begin, begin + m_end);
                pos = last = m_end;
            }
            if (last < length) next.emplace_back(begin + last, end);
        }
        pcre2_match_data_free(match);
        words.swap(next);
    }
    return words;
}

}  // namespace loom::tokenizer

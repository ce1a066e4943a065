// libFuzzer target for the GBNF grammar parser and matcher (scripts/fuzz.sh grammar), also
// compiled into the runtime tests, which replay fuzz/corpus/grammar/ through it.
//
// Input: a grammar text, optionally followed by a NUL byte and a text to match. The
// grammar is parsed; only loom::Error may come out. When it parses, the text (or, without
// a NUL, the grammar text itself) is fed byte by byte to a matcher over a small synthetic
// vocabulary (every single byte, a few multi-byte tokens, an end-of-generation token), and
// at each step the trie-walk mask must equal the token-by-token check, can_end and done
// must agree with what the mask allows, and a rejected byte must throw and change nothing.
// Matching may stop with loom::Error(OutOfRange) for a too ambiguous grammar. Any
// violation aborts (a crash to libFuzzer).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/grammar.h"
#include "runtime/grammar_matcher.h"
#include "runtime/token_trie.h"

namespace {

using namespace loom::runtime;

void require(bool ok) {
    if (!ok) std::abort();
}

constexpr size_t kMaxSteps = 48;  // bytes matched per input: keeps each run fast

std::shared_ptr<const TokenTrie> vocabulary() {
    static const std::shared_ptr<const TokenTrie> trie = [] {
        std::vector<std::string> pieces;
        for (int b = 0; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
        for (const char* p :
             {"ab", "abc", "\"a\"", "{\"", "\xC3\xA9", "a\xC3", "  ", "\n\t", "root", "::="}) {
            pieces.emplace_back(p);
        }
        pieces.emplace_back();  // a control token: no text
        pieces.emplace_back();  // end of generation
        std::vector<loom::tokenizer::TokenId> eog{
            static_cast<loom::tokenizer::TokenId>(pieces.size() - 1)};
        return std::make_shared<const TokenTrie>(pieces, eog);
    }();
    return trie;
}

void check_step(GrammarMatcher& m, std::vector<float>& logits) {
    const TokenTrie& trie = m.tokens();
    std::fill(logits.begin(), logits.end(), 0.0f);
    m.apply(logits);
    for (size_t id = 0; id < logits.size(); ++id) {
        const bool allowed = std::isfinite(logits[id]);
        require(allowed == m.accepts(static_cast<loom::tokenizer::TokenId>(id)));
        if (trie.is_eog(static_cast<loom::tokenizer::TokenId>(id))) require(allowed == m.can_end());
    }
    // Done means the end and nothing else. (A live state may allow no token at all, as
    // with root ::= []: the sampler reports that as a value, not a crash.)
    if (m.done()) {
        for (size_t id = 0; id < logits.size(); ++id) {
            require(std::isfinite(logits[id]) ==
                    trie.is_eog(static_cast<loom::tokenizer::TokenId>(id)));
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string_view grammar_text = input.substr(0, nul);
    const std::string_view text = nul == std::string_view::npos ? input : input.substr(nul + 1);
    std::shared_ptr<const Grammar> grammar;
    try {
        grammar = Grammar::parse(grammar_text);
    } catch (const loom::Error&) {
        return 0;  // rejected with a message: expected for most inputs
    }
    require(grammar->rule_count() > 0 && grammar->root() < grammar->rule_count());
    volatile size_t printed = grammar->to_string().size();
    (void)printed;
    try {
        GrammarMatcher m(grammar, vocabulary());
        std::vector<float> logits(m.tokens().n_vocab() + 1);  // one past the vocabulary
        for (size_t i = 0; i < text.size() && i < kMaxSteps; ++i) {
            check_step(m, logits);
            require(std::isinf(logits.back()));
            const std::string_view byte = text.substr(i, 1);
            const bool ok = m.accepts_bytes(byte);
            if (!ok) {
                bool threw = false;
                try {
                    m.accept_bytes(byte);
                } catch (const loom::Error& e) {
                    threw = e.code() == loom::ErrorCode::InvalidArgument;
                }
                require(threw);
                break;
            }
            m.accept_bytes(byte);
        }
        m.reset();
        check_step(m, logits);
    } catch (const loom::Error& e) {
        require(e.code() == loom::ErrorCode::OutOfRange);  // too ambiguous to match
    }
    return 0;
}

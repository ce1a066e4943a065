// GrammarMatcher and TokenTrie tests: tokens that span several grammar items, tokens
// that end inside a multi-byte character, end-of-generation and non-text tokens,
// can_end/done/reset, accept's error leaving the state alone, the mask against a
// token-by-token check on real vocabularies (stories260K's 512 tokens at every byte of
// a text; Gemma 3's 262k at a few points), and bounded memory on long outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/format.h"
#include "gguf/gguf_file.h"
#include "runtime/grammar.h"
#include "runtime/grammar_matcher.h"
#include "runtime/token_trie.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace loom::runtime {
namespace {

using tokenizer::TokenId;

// A vocabulary small enough to reason about: id -> bytes.
enum Tok : TokenId {
    kControl,
    kEos,
    kA,
    kB,
    kC,
    kAB,
    kABC,
    kQuote,
    kE9Lead,
    kE9Tail,
    kE9,
    kALead,
    kSpace,
    kOpen,
    kClose,
    kQuotedA,
    kLong,
    kVocabSize
};

std::shared_ptr<const TokenTrie> tiny_trie() {
    std::vector<std::string> pieces(kVocabSize);
    pieces[kA] = "a";
    pieces[kB] = "b";
    pieces[kC] = "c";
    pieces[kAB] = "ab";
    pieces[kABC] = "abc";
    pieces[kQuote] = "\"";
    pieces[kE9Lead] = "\xC3";  // first byte of "é"
    pieces[kE9Tail] = "\xA9";  // its second byte
    pieces[kE9] = "\xC3\xA9";  // "é"
    pieces[kALead] = "a\xC3";  // "a" and half a character
    pieces[kSpace] = " ";
    pieces[kOpen] = "{";
    pieces[kClose] = "}";
    pieces[kQuotedA] = "\"a\"";
    pieces[kLong] = "ababab";
    pieces[kEos] = "</s>";  // ignored: it is an end-of-generation token
    std::vector<TokenId> eog{kEos};
    return std::make_shared<const TokenTrie>(pieces, eog);
}

GrammarMatcher tiny(const std::string& grammar) {
    return GrammarMatcher(Grammar::parse(grammar), tiny_trie());
}

// The tokens apply() leaves finite, from all-zero logits.
std::vector<bool> masked(GrammarMatcher& m, size_t n_logits) {
    std::vector<float> logits(n_logits, 0.0f);
    m.apply(logits);
    std::vector<bool> allowed(n_logits);
    for (size_t i = 0; i < n_logits; ++i) allowed[i] = std::isfinite(logits[i]);
    return allowed;
}

TEST(TokenTrie, PreorderNodesAndTokenRuns) {
    auto trie = tiny_trie();
    EXPECT_EQ(trie->n_vocab(), static_cast<size_t>(kVocabSize));
    EXPECT_TRUE(trie->is_eog(kEos));
    EXPECT_FALSE(trie->is_eog(kA));
    EXPECT_EQ(trie->piece(kEos), "");
    EXPECT_EQ(trie->piece(kControl), "");
    EXPECT_EQ(trie->piece(kAB), "ab");
    EXPECT_EQ(trie->max_depth(), 6u);
    // Every text token is found by following its bytes from the root.
    auto nodes = trie->nodes();
    auto tokens = trie->tokens_by_node();
    for (TokenId id = 0; id < kVocabSize; ++id) {
        std::string_view p = trie->piece(id);
        size_t found = 0;
        std::string path;
        for (size_t i = 0; i < trie->node_count(); ++i) {
            path.resize(nodes[i].depth - 1);
            path += static_cast<char>(nodes[i].byte);
            for (uint32_t t = nodes[i].first_token; t < nodes[i + 1].first_token; ++t) {
                if (tokens[t] == id) {
                    EXPECT_EQ(path, p) << id;
                    ++found;
                }
            }
            // The subtree of a node holds exactly the nodes whose path extends its own.
            EXPECT_GT(nodes[i].subtree_end, i);
            if (nodes[i].subtree_end < trie->node_count()) {
                EXPECT_LE(nodes[nodes[i].subtree_end].depth, nodes[i].depth);
            }
        }
        EXPECT_EQ(found, p.empty() ? 0u : 1u) << id;
    }
}

TEST(GrammarMatcher, TokensSpanSeveralItemsAndRules) {
    GrammarMatcher m = tiny("root ::= x \"c\"\nx ::= \"a\" \"b\"");
    EXPECT_TRUE(m.accepts(kA));
    EXPECT_TRUE(m.accepts(kAB));
    EXPECT_TRUE(m.accepts(kABC));
    EXPECT_FALSE(m.accepts(kB));
    m.accept(kAB);
    EXPECT_TRUE(m.accepts(kC));
    EXPECT_FALSE(m.accepts(kA));
    EXPECT_FALSE(m.can_end());
    m.accept(kC);
    EXPECT_TRUE(m.can_end());
    EXPECT_TRUE(m.done());
}

TEST(GrammarMatcher, TokensEndingInsideACharacter) {
    GrammarMatcher m = tiny("root ::= \"a\" \"é\" \"b\"");
    EXPECT_TRUE(m.accepts(kALead));  // "a" + the first byte of "é"
    EXPECT_FALSE(m.accepts(kE9));    // "é" needs the "a" first
    m.accept(kALead);
    EXPECT_TRUE(m.accepts(kE9Tail));  // the rest of the character
    EXPECT_FALSE(m.accepts(kE9));     // not a whole character again
    EXPECT_FALSE(m.accepts(kB));      // nor skipping the rest
    EXPECT_FALSE(m.can_end());
    EXPECT_FALSE(m.accepts(kEos));
    m.accept(kE9Tail);
    m.accept(kB);
    EXPECT_TRUE(m.done());
}

TEST(GrammarMatcher, PartialCharacterIsKeptWhileSomeCompletionFits) {
    // Anything but "é": its lead byte C3 also starts "à".."ÿ", so it is kept; the tail
    // byte that would make it "é" is not.
    GrammarMatcher m = tiny("root ::= [^é]*");
    EXPECT_TRUE(m.accepts(kE9Lead));
    EXPECT_FALSE(m.accepts(kE9));
    m.accept(kE9Lead);
    EXPECT_FALSE(m.accepts(kE9Tail));
    EXPECT_FALSE(m.can_end());  // half a character is never a complete text
    m.accept_bytes("\xA0");     // "à"
    EXPECT_TRUE(m.can_end());
    // A lone continuation byte is never text.
    EXPECT_FALSE(m.accepts(kE9Tail));
}

TEST(GrammarMatcher, EndOfGenerationOnlyWhereTheGrammarCanEnd) {
    GrammarMatcher m = tiny("root ::= \"a\" \"b\"*");
    EXPECT_FALSE(m.accepts(kEos));
    EXPECT_THROW(m.accept(kEos), Error);
    m.accept(kA);
    EXPECT_TRUE(m.can_end());
    EXPECT_FALSE(m.done());  // more "b"s may follow
    EXPECT_TRUE(m.accepts(kEos));
    EXPECT_TRUE(m.accepts(kB));
    m.accept(kEos);
    EXPECT_TRUE(m.done());
    EXPECT_FALSE(m.accepts(kB));
    m.reset();
    EXPECT_FALSE(m.can_end());
    EXPECT_TRUE(m.accepts(kA));
}

TEST(GrammarMatcher, NonTextTokensNeverMatch) {
    GrammarMatcher m = tiny("root ::= .*");
    EXPECT_FALSE(m.accepts(kControl));
    EXPECT_FALSE(m.accepts(-1));
    EXPECT_FALSE(m.accepts(kVocabSize));
    EXPECT_THROW(m.accept(kControl), Error);
}

TEST(GrammarMatcher, RejectedTokenThrowsAndLeavesTheStateAlone) {
    GrammarMatcher m = tiny("root ::= \"ab\" \"c\"");
    m.accept(kA);
    try {
        m.accept(kC);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_EQ(std::string(e.what()), "grammar: token 4 \"c\" does not fit the grammar here");
    }
    EXPECT_TRUE(m.accepts(kB));
    EXPECT_THROW(m.accept_bytes("bb"), Error);
    m.accept_bytes("bc");
    EXPECT_TRUE(m.done());
}

TEST(GrammarMatcher, ApplyBansExactlyTheRejectedTokens) {
    GrammarMatcher m = tiny("root ::= \"{\" \" \"? \"\\\"a\\\"\" \"}\" | \"ab\"+");
    std::vector<bool> allowed = masked(m, kVocabSize + 3);  // logits past the vocabulary too
    for (TokenId id = 0; id < kVocabSize + 3; ++id) {
        const bool expected = id == kOpen || id == kA || id == kAB || id == kLong;
        EXPECT_EQ(allowed[static_cast<size_t>(id)], expected) << id;
    }
    m.accept(kOpen);
    allowed = masked(m, kVocabSize);
    EXPECT_TRUE(allowed[kSpace]);
    EXPECT_TRUE(allowed[kQuote]);
    EXPECT_TRUE(allowed[kQuotedA]);
    EXPECT_FALSE(allowed[kClose]);
    EXPECT_FALSE(allowed[kEos]);
    m.accept(kQuotedA);
    m.accept(kClose);
    allowed = masked(m, kVocabSize);
    for (TokenId id = 0; id < kVocabSize; ++id) {
        EXPECT_EQ(allowed[static_cast<size_t>(id)], id == kEos) << id;
    }
}

TEST(GrammarMatcher, MaskIsCachedPerStateAndFollowsTheState) {
    GrammarMatcher m = tiny("root ::= (\"a\" | \"b\")* \"c\"");
    const std::vector<bool> first = masked(m, kVocabSize);
    m.accept(kA);  // loops back to the same state
    EXPECT_EQ(masked(m, kVocabSize), first);
    m.accept(kC);
    EXPECT_NE(masked(m, kVocabSize), first);
}

TEST(GrammarMatcher, LongOutputsKeepMemoryBounded) {
    // Every character is a new position in the {0,30000} chain, hence a new state: the
    // automaton compacts itself and matching goes on unchanged.
    // Masks are taken all along, so compaction also happens in the middle of a trie walk
    // (each walk adds the states of the next few positions).
    GrammarMatcher m = tiny("root ::= [ab]{0,30000} \"c\"");
    for (int i = 0; i < 20000; ++i) {
        m.accept(i % 2 == 0 ? kA : kB);
        if (i % 97 != 0 && (i < 8150 || i > 8250)) continue;
        std::vector<bool> allowed = masked(m, kVocabSize);
        for (TokenId id = 0; id < kVocabSize; ++id) {
            ASSERT_EQ(allowed[static_cast<size_t>(id)], m.accepts(id)) << "token " << id << " after " << i;
        }
    }
    EXPECT_TRUE(m.accepts(kAB));
    EXPECT_TRUE(m.accepts(kC));
    EXPECT_FALSE(m.can_end());
    std::vector<bool> allowed = masked(m, kVocabSize);
    EXPECT_TRUE(allowed[kABC]);
    EXPECT_FALSE(allowed[kSpace]);
    m.accept(kC);
    EXPECT_TRUE(m.done());
}

// ---- real vocabularies: the trie walk against a token-by-token check -------------------

struct RealVocab {
    gguf::GgufFile file;
    tokenizer::Tokenizer tokenizer;
    std::shared_ptr<const TokenTrie> trie;
};

std::unique_ptr<RealVocab> load(const std::filesystem::path& path) {
    auto file = gguf::GgufFile::open(path);
    auto tok = tokenizer::Tokenizer::from_gguf(file);
    auto trie = TokenTrie::from_tokenizer(tok);
    return std::unique_ptr<RealVocab>(
        new RealVocab{std::move(file), std::move(tok), std::move(trie)});
}

const char* const kJsonGrammar = R"(root ::= object
value ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= "-"? ([0-9] | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})? ws
ws ::= | " " | "\n" [ \t]{0,20}
)";

// At every byte of text (mid-character included), apply() must agree with accepts() on
// every token. Returns the number of positions checked.
size_t check_mask_against_tokens(GrammarMatcher& m, std::string_view text, size_t stride) {
    const size_t n_vocab = m.tokens().n_vocab();
    size_t checked = 0;
    for (size_t pos = 0; pos <= text.size(); ++pos) {
        if (pos % stride == 0 || pos == text.size()) {
            std::vector<bool> allowed = masked(m, n_vocab);
            size_t n_allowed = 0;
            for (size_t id = 0; id < n_vocab; ++id) {
                const bool one = m.accepts(static_cast<TokenId>(id));
                if (allowed[id] != one) {
                    ADD_FAILURE() << "token " << id << " "
                                  << quote_for_message(m.tokens().piece(static_cast<TokenId>(id)))
                                  << " at byte " << pos << ": mask " << allowed[id] << ", accepts "
                                  << one;
                    return checked;
                }
                n_allowed += one;
            }
            EXPECT_GT(n_allowed, 0u) << "at byte " << pos;
            ++checked;
        }
        if (pos < text.size()) m.accept_bytes(text.substr(pos, 1));
    }
    EXPECT_TRUE(m.can_end());
    return checked;
}

TEST(GrammarMatcherRealVocab, Stories260kMaskEqualsTokenChecksAtEveryByte) {
    auto v = load(test::fixture("stories260K.gguf"));
    GrammarMatcher json(Grammar::parse(kJsonGrammar), v->trie);
    EXPECT_GT(
        check_mask_against_tokens(
            json, R"({"name": "Lily", "age": 3, "toys": ["ball", {"x": -1.5e3}], "ok": true})", 1),
        50u);
    // Multi-byte classes: stories260K spells them with byte-fallback tokens.
    GrammarMatcher words(
        Grammar::parse("root ::= ([a-z ] | [\\u00e0-\\u00ff] | [\\u4e00-\\u9fff])+ \".\""),
        v->trie);
    check_mask_against_tokens(words, "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 ok.", 1);
}

TEST(GrammarMatcherRealVocab, GemmaMaskEqualsTokenChecks) {
    auto v = load(test::default_model());
    ASSERT_GT(v->trie->n_vocab(), 200000u);
    GrammarMatcher json(Grammar::parse(kJsonGrammar), v->trie);
    check_mask_against_tokens(json, R"({"name": "Zo\u00eb \u4e2d", "n": [1, 2.5], "ok": null})", 9);
    GrammarMatcher words(
        Grammar::parse("root ::= ([a-z ] | [\\u00e0-\\u00ff] | [\\u4e00-\\u9fff])+ \".\""),
        v->trie);
    check_mask_against_tokens(words, "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87.", 4);
}

}  // namespace
}  // namespace loom::runtime

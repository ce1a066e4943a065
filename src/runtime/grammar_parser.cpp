// Grammar::parse: the GBNF text parser (syntax in grammar.h). A recursive-descent reader
// that feeds GrammarBuilder; repetitions are rewritten on the spot, as llama.cpp does:
//   S{m,n} -> S..S (m times) S'(n-m)   with S'(k) ::= S S'(k-1) |   and S'(1) ::= S |
//   S{m,}  -> S..S (m times) S*        with S*    ::= S S* |
//   S* = S{0,}, S+ = S{1,}, S? = S{0,1}
// where S is the last item: one literal (all its characters), class, rule, group or "."
// (a multi-character literal is first wrapped in a rule of its own). Recursion happens
// only for nested groups and is bounded by kMaxGrammarNesting.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/format.h"
#include "runtime/grammar.h"
#include "runtime/grammar_builder.h"
#include "runtime/utf8_ranges.h"

namespace loom::runtime {
namespace {

using Item = GrammarBuilder::Item;
using Sequence = GrammarBuilder::Sequence;

constexpr int kEnd = -1;  // peek() past the end of the text
constexpr size_t kNoItem = SIZE_MAX;

bool is_name_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Parser {
public:
    explicit Parser(std::string_view source) : src_(source), builder_(source) {}

    std::shared_ptr<const Grammar> run() {
        skip_space(true);
        while (peek() != kEnd) parse_rule();
        return builder_.build();
    }

private:
    int peek(size_t ahead = 0) const {
        return pos_ + ahead < src_.size() ? static_cast<unsigned char>(src_[pos_ + ahead]) : kEnd;
    }

    [[noreturn]] void fail(size_t offset, const std::string& message) const {
        throw Error(ErrorCode::Format,
                    "grammar: " + grammar_position(src_, offset) + ": " + message);
    }

    // What stands at the current position, for "expected X, got Y".
    std::string here() const {
        const int c = peek();
        if (c == kEnd) return "the end of the text";
        if (c == '\n' || c == '\r') return "the end of the line";
        size_t len = 1;
        while (pos_ + len < src_.size() && len < 4 &&
               (static_cast<unsigned char>(src_[pos_ + len]) & 0xC0) == 0x80) {
            ++len;
        }
        return quote_for_message(src_.substr(pos_, len));
    }

    // Spaces, tabs and comments; line breaks too when newline_ok.
    void skip_space(bool newline_ok) {
        for (;;) {
            const int c = peek();
            if (c == ' ' || c == '\t' || (newline_ok && (c == '\r' || c == '\n'))) {
                ++pos_;
            } else if (c == '#') {
                while (peek() != kEnd && peek() != '\n' && peek() != '\r') ++pos_;
            } else {
                return;
            }
        }
    }

    std::string_view parse_name() {
        const size_t start = pos_;
        while (is_name_char(peek())) ++pos_;
        if (pos_ == start) fail(pos_, "expected a rule name, got " + here());
        return src_.substr(start, pos_ - start);
    }

    void parse_rule() {
        const size_t start = pos_;
        const std::string_view name = parse_name();
        skip_space(false);
        if (src_.substr(pos_, 3) != "::=") {
            std::string hint = peek() == '_' ? " (rule names are letters, digits and '-')" : "";
            fail(pos_, "expected '::=' after the rule name " + quote_for_message(name) + ", got " +
                           here() + hint);
        }
        pos_ += 3;
        skip_space(true);
        const uint32_t rule = builder_.reference(name, start);
        std::vector<Sequence> alternatives = parse_alternatives(name, false);
        if (peek() == '\r') {
            ++pos_;
            if (peek() == '\n') ++pos_;
        } else if (peek() == '\n') {
            ++pos_;
        } else if (peek() != kEnd) {
            fail(pos_, "expected the end of the line after the rule " + quote_for_message(name) +
                           ", got " + here());
        }
        builder_.define(rule, std::move(alternatives), start);
        skip_space(true);
    }

    std::vector<Sequence> parse_alternatives(std::string_view rule_name, bool nested) {
        std::vector<Sequence> alternatives;
        alternatives.push_back(parse_sequence(rule_name, nested));
        while (peek() == '|') {
            ++pos_;
            skip_space(true);
            alternatives.push_back(parse_sequence(rule_name, nested));
        }
        return alternatives;
    }

    // One code point: an escape or a UTF-8 character.
    char32_t parse_char() {
        const size_t start = pos_;
        if (peek() == '\\') {
            const int e = peek(1);
            pos_ += 2;
            switch (e) {
                case 'x':
                    return parse_hex(2, start);
                case 'u':
                    return parse_hex(4, start);
                case 'U':
                    return parse_hex(8, start);
                case 't':
                    return '\t';
                case 'r':
                    return '\r';
                case 'n':
                    return '\n';
                case '\\':
                case '"':
                case '[':
                case ']':
                    return static_cast<char32_t>(e);
                default:
                    pos_ = start + 1;
                    fail(start,
                         "unknown escape \\" + (e == kEnd ? std::string() : here()) +
                             " (known: \\n \\r \\t \\\\ \\\" \\[ \\] \\xHH \\uHHHH \\UHHHHHHHH)");
            }
        }
        return parse_utf8();
    }

    char32_t parse_hex(int digits, size_t start) {
        char32_t value = 0;
        for (int i = 0; i < digits; ++i) {
            const int v = hex_value(peek());
            if (v < 0) {
                fail(pos_, "expected " + std::to_string(digits) +
                               " hex digits in the escape, got " + here());
            }
            value = value * 16 + static_cast<char32_t>(v);
            ++pos_;
        }
        if (value > kMaxCodePoint) {
            fail(start, "escape " + std::string(src_.substr(start, pos_ - start)) +
                            " is above U+10FFFF, the last code point");
        }
        return value;
    }

    char32_t parse_utf8() {
        const size_t start = pos_;
        const int c0 = peek();
        int len = 0;
        char32_t cp = 0;
        if (c0 < 0x80) {
            len = 1, cp = static_cast<char32_t>(c0);
        } else if (c0 >= 0xC2 && c0 <= 0xDF) {
            len = 2, cp = static_cast<char32_t>(c0 & 0x1F);
        } else if (c0 >= 0xE0 && c0 <= 0xEF) {
            len = 3, cp = static_cast<char32_t>(c0 & 0x0F);
        } else if (c0 >= 0xF0 && c0 <= 0xF4) {
            len = 4, cp = static_cast<char32_t>(c0 & 0x07);
        } else {
            fail(start, "invalid UTF-8 in the grammar text");
        }
        for (int i = 1; i < len; ++i) {
            const int c = peek(static_cast<size_t>(i));
            if (c == kEnd || (c & 0xC0) != 0x80) fail(start, "invalid UTF-8 in the grammar text");
            cp = (cp << 6) | static_cast<char32_t>(c & 0x3F);
        }
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail(start, "invalid UTF-8 in the grammar text");
        }
        pos_ += static_cast<size_t>(len);
        return cp;
    }

    Item parse_class() {
        const size_t open = pos_;
        ++pos_;  // '['
        bool negated = false;
        if (peek() == '^') {
            negated = true;
            ++pos_;
        }
        GrammarBuilder::CodeRanges ranges;
        while (peek() != ']') {
            if (peek() == kEnd) {
                fail(open,
                     "character class [ is not closed (expected ']' before the end of the text)");
            }
            const size_t at = pos_;
            const char32_t lo = parse_char();
            char32_t hi = lo;
            if (peek() == '-' && peek(1) != ']' && peek(1) != kEnd) {
                ++pos_;
                hi = parse_char();
                if (hi < lo) {
                    fail(at, "reversed range " + quote_for_message(src_.substr(at, pos_ - at)) +
                                 " in the character class (write the lower end first)");
                }
            }
            builder_.charge(1, at);
            ranges.emplace_back(lo, hi);
        }
        ++pos_;  // ']'
        return Item{false, builder_.code_set(std::move(ranges), negated)};
    }

    size_t parse_count() {
        const size_t start = pos_;
        size_t value = 0;
        while (is_digit(peek())) {
            value = value * 10 + static_cast<size_t>(peek() - '0');
            ++pos_;
            if (value > kMaxGrammarElements) {
                throw Error(ErrorCode::OutOfRange, "grammar: " + grammar_position(src_, start) +
                                                       ": repetition count above " +
                                                       std::to_string(kMaxGrammarElements));
            }
        }
        return value;
    }

    // Rewrites seq[last..] (the last item) as repeated min..max times (max < 0: unbounded).
    void repeat(Sequence& seq, size_t last, size_t min, long long max, std::string_view rule_name,
                size_t offset) {
        Sequence item(seq.begin() + static_cast<std::ptrdiff_t>(last), seq.end());
        seq.resize(last);
        Item unit = item.front();
        if (item.size() > 1) {
            const uint32_t wrapped = builder_.synthesize(rule_name, offset);
            builder_.define(wrapped, {std::move(item)}, offset);
            unit = Item{true, wrapped};
        }
        builder_.charge(min, offset);
        for (size_t i = 0; i < min; ++i) seq.push_back(unit);
        if (max < 0) {
            const uint32_t star = builder_.synthesize(rule_name, offset);
            builder_.charge(2, offset);
            builder_.define(star, {{unit, Item{true, star}}, {}}, offset);
            seq.push_back(Item{true, star});
            return;
        }
        const auto optional = static_cast<size_t>(max) - min;
        builder_.charge(optional * 2, offset);
        uint32_t previous = 0;
        for (size_t k = 1; k <= optional; ++k) {
            const uint32_t rule = builder_.synthesize(rule_name, offset);
            Sequence first{unit};
            if (k > 1) first.push_back(Item{true, previous});
            builder_.define(rule, {std::move(first), {}}, offset);
            previous = rule;
        }
        if (optional > 0) seq.push_back(Item{true, previous});
    }

    Sequence parse_sequence(std::string_view rule_name, bool nested) {
        Sequence seq;
        size_t last = kNoItem;  // where the last item starts in seq
        for (;;) {
            const size_t at = pos_;
            const int c = peek();
            if (c == '"') {
                ++pos_;
                last = seq.size();
                while (peek() != '"') {
                    if (peek() == kEnd) {
                        fail(at,
                             "string literal is not closed (expected '\"' before the end of the "
                             "text)");
                    }
                    const char32_t cp = parse_char();
                    builder_.charge(1, at);
                    seq.push_back(Item{false, builder_.code_set({{cp, cp}}, false)});
                }
                ++pos_;
            } else if (c == '[') {
                last = seq.size();
                seq.push_back(parse_class());
            } else if (is_name_char(c)) {
                const std::string_view name = parse_name();
                last = seq.size();
                builder_.charge(1, at);
                seq.push_back(Item{true, builder_.reference(name, at)});
            } else if (c == '(') {
                if (depth_ >= kMaxGrammarNesting) {
                    throw Error(ErrorCode::OutOfRange, "grammar: " + grammar_position(src_, at) +
                                                           ": groups nested more than " +
                                                           std::to_string(kMaxGrammarNesting) +
                                                           " deep");
                }
                ++pos_;
                skip_space(true);
                ++depth_;
                const uint32_t group = builder_.synthesize(rule_name, at);
                std::vector<Sequence> alternatives = parse_alternatives(rule_name, true);
                --depth_;
                if (peek() != ')') {
                    fail(pos_, "expected ')' to close the group opened at " +
                                   grammar_position(src_, at) + ", got " + here());
                }
                ++pos_;
                builder_.define(group, std::move(alternatives), at);
                last = seq.size();
                builder_.charge(1, at);
                seq.push_back(Item{true, group});
            } else if (c == '.') {
                ++pos_;
                last = seq.size();
                builder_.charge(1, at);
                seq.push_back(Item{false, builder_.code_set({}, true)});
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                if (last == kNoItem || last == seq.size()) {
                    fail(at, "'" + std::string(1, static_cast<char>(c)) +
                                 "' must follow an item to repeat");
                }
                ++pos_;
                size_t min = c == '+' ? 1 : 0;
                long long max = c == '?' ? 1 : -1;
                if (c == '{') {
                    skip_space(nested);
                    if (!is_digit(peek())) fail(pos_, "expected a number after '{', got " + here());
                    min = parse_count();
                    skip_space(nested);
                    if (peek() == '}') {
                        max = static_cast<long long>(min);
                    } else if (peek() == ',') {
                        ++pos_;
                        skip_space(nested);
                        if (is_digit(peek())) {
                            max = static_cast<long long>(parse_count());
                            skip_space(nested);
                        }
                        if (peek() != '}') {
                            fail(pos_, "expected '}' to close the repetition, got " + here());
                        }
                        if (max >= 0 && static_cast<size_t>(max) < min) {
                            fail(at, "repetition {" + std::to_string(min) + "," +
                                         std::to_string(max) +
                                         "}: the maximum is below the minimum");
                        }
                    } else {
                        fail(pos_, "expected ',' or '}' in the repetition, got " + here());
                    }
                    ++pos_;
                }
                repeat(seq, last, min, max, rule_name, at);
            } else {
                return seq;
            }
            skip_space(nested);
        }
    }

    std::string_view src_;
    size_t pos_ = 0;
    size_t depth_ = 0;
    GrammarBuilder builder_;
};

}  // namespace

std::shared_ptr<const Grammar> Grammar::parse(std::string_view text) {
    return Parser(text).run();
}

}  // namespace loom::runtime

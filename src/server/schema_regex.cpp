// ECMA-262 pattern subset -> GBNF over JSON string content (see schema_regex.h). A
// recursive-descent reader over code points that writes GBNF as it goes; every set of
// characters is written as the JSON forms of its members (raw where JSON allows them,
// escaped where it does not).
// Spec: ECMA-262 "Patterns" (22.2.1), JSON Schema 2020-12 validation 6.3.3 ("pattern").
#include "server/schema_regex.h"

#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/format.h"
#include "server/gbnf_text.h"

namespace loom::server {
namespace {

constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxCount = 10000;

const CodeRanges& json_specials() {
    static const CodeRanges kSpecials =
        normalize_ranges({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}, {0x7F, 0x7F}});
    return kSpecials;
}

// The JSON escape of a character that may not appear raw in a JSON string.
std::string json_escape(char32_t cp) {
    switch (cp) {
        case '"':
            return "\\\"";
        case '\\':
            return "\\\\";
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        case 0x08:
            return "\\b";
        case 0x0C:
            return "\\f";
        default: {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
            return buf;
        }
    }
}

// One GBNF item matching the JSON forms of the characters in set (normalized).
std::string emit_set(const CodeRanges& set) {
    const CodeRanges raw = intersect_ranges(set, complement_ranges(json_specials()));
    const CodeRanges escaped = intersect_ranges(set, json_specials());
    if (escaped.empty() && raw.size() == 1 && raw[0].first == raw[0].second) {
        std::string text;
        append_utf8(text, raw[0].first);
        return gbnf_literal(text);
    }
    std::vector<std::string> alternatives;
    if (!raw.empty()) alternatives.push_back(gbnf_class(raw));
    for (const auto& [lo, hi] : escaped) {
        for (char32_t cp = lo; cp <= hi; ++cp) {
            alternatives.push_back(gbnf_literal(json_escape(cp)));
        }
    }
    if (alternatives.empty()) return "[]";
    if (alternatives.size() == 1) return alternatives[0];
    std::string out = "(";
    for (size_t i = 0; i < alternatives.size(); ++i) out += (i ? " | " : "") + alternatives[i];
    return out + ")";
}

CodeRanges digits() {
    return {{'0', '9'}};
}
CodeRanges word_chars() {
    return normalize_ranges({{'0', '9'}, {'A', 'Z'}, {'a', 'z'}, {'_', '_'}});
}
// ECMA-262 WhiteSpace and LineTerminator.
CodeRanges space_chars() {
    return normalize_ranges({{0x09, 0x0D},
                             {0x20, 0x20},
                             {0xA0, 0xA0},
                             {0x1680, 0x1680},
                             {0x2000, 0x200A},
                             {0x2028, 0x2029},
                             {0x202F, 0x202F},
                             {0x205F, 0x205F},
                             {0x3000, 0x3000},
                             {0xFEFF, 0xFEFF}});
}

class PatternParser {
public:
    PatternParser(std::string_view pattern, std::string_view any_char_rule)
        : original_(pattern), any_(any_char_rule) {
        decode(pattern);
    }

    std::string run() {
        std::vector<std::string> alternatives;
        for (;;) {
            const bool anchored_start = consume('^');
            bool anchored_end = false;
            const std::string body = sequence(true, &anchored_end);
            std::string alt;
            auto add = [&alt](const std::string& part) {
                if (part.empty()) return;
                if (!alt.empty()) alt += ' ';
                alt += part;
            };
            if (!anchored_start) add(any_ + "*");
            add(body);
            if (!anchored_end) add(any_ + "*");
            alternatives.push_back(alt);
            if (!consume('|')) break;
        }
        if (pos_ < s_.size()) malformed("unbalanced ')'");
        std::string out = "(";
        for (size_t i = 0; i < alternatives.size(); ++i) out += (i ? " | " : "") + alternatives[i];
        return out + ")";
    }

private:
    [[noreturn]] void fail(ErrorCode code, const std::string& what) const {
        throw Error(code, "pattern " + quote_for_message(original_) + ": " + what +
                              " at character " + std::to_string(pos_ + 1));
    }
    [[noreturn]] void unsupported(const std::string& what) const {
        fail(ErrorCode::Unsupported, what + " is not supported");
    }
    [[noreturn]] void malformed(const std::string& what) const {
        fail(ErrorCode::InvalidArgument, what);
    }

    void decode(std::string_view text) {
        for (size_t i = 0; i < text.size();) {
            const auto c0 = static_cast<unsigned char>(text[i]);
            int len = c0 < 0x80 ? 1 : c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC0 ? 2 : 0;
            if (len == 0 || i + static_cast<size_t>(len) > text.size()) {
                pos_ = s_.size();
                malformed("invalid UTF-8");
            }
            char32_t cp = len == 1 ? c0 : c0 & (0x7F >> len);
            for (int k = 1; k < len; ++k) {
                cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
            }
            s_.push_back(cp);
            i += static_cast<size_t>(len);
        }
    }

    bool at(char32_t c) const { return pos_ < s_.size() && s_[pos_] == c; }
    bool consume(char32_t c) {
        if (!at(c)) return false;
        ++pos_;
        return true;
    }

    // Items up to '|' or ')' (or the end); at the top level a '$' just before those
    // anchors the end.
    std::string sequence(bool top, bool* anchored_end) {
        std::string out;
        while (pos_ < s_.size() && !at('|') && !at(')')) {
            if (at('$')) {
                if (top && (pos_ + 1 == s_.size() || s_[pos_ + 1] == '|')) {
                    ++pos_;
                    *anchored_end = true;
                    break;
                }
                unsupported("'$' before the end of the pattern");
            }
            if (at('^')) unsupported("'^' after the start of the pattern");
            std::string item = quantified(atom());
            if (!out.empty()) out += ' ';
            out += item;
        }
        return out;
    }

    std::string group_body() {
        bool unused = false;
        std::string out = "(" + sequence(false, &unused);
        while (consume('|')) out += " | " + sequence(false, &unused);
        return out + ")";
    }

    std::string atom() {
        const char32_t c = s_[pos_];
        switch (c) {
            case '(': {
                if (depth_ >= kMaxDepth) {
                    unsupported("groups nested more than " + std::to_string(kMaxDepth) + " deep");
                }
                ++pos_;
                if (consume('?')) {
                    if (consume(':')) {
                        // non-capturing group
                    } else if (at('<') && pos_ + 1 < s_.size() && s_[pos_ + 1] != '=' &&
                               s_[pos_ + 1] != '!') {
                        while (pos_ < s_.size() && !at('>')) {
                            ++pos_;  // named group: the name is irrelevant
                        }
                        if (!consume('>')) malformed("unclosed group name");
                    } else {
                        unsupported("lookaround or inline flags '(?'");
                    }
                }
                ++depth_;
                std::string body = group_body();
                --depth_;
                if (!consume(')')) malformed("missing ')'");
                return body;
            }
            case '[':
                return emit_set(char_class());
            case '.':
                ++pos_;
                return emit_set(complement_ranges(
                    normalize_ranges({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}})));
            case '\\': {
                ++pos_;
                CodeRanges set = escape(false);
                return emit_set(set);
            }
            case '*':
            case '+':
            case '?':
                malformed("nothing to repeat before '" + std::string(1, static_cast<char>(c)) +
                          "'");
            case '{':
                if (quantifier_counts_ahead()) malformed("nothing to repeat before '{'");
                ++pos_;
                return emit_set({{c, c}});
            default:
                ++pos_;
                return emit_set({{c, c}});
        }
    }

    // Whether {n}, {n,} or {n,m} starts here (else '{' is a literal, as ECMA-262 Annex B).
    bool quantifier_counts_ahead() const {
        size_t p = pos_ + 1;
        auto digits_at = [&](size_t& q) {
            const size_t start = q;
            while (q < s_.size() && s_[q] >= '0' && s_[q] <= '9') ++q;
            return q > start;
        };
        if (!digits_at(p)) return false;
        if (p < s_.size() && s_[p] == ',') {
            ++p;
            digits_at(p);
        }
        return p < s_.size() && s_[p] == '}';
    }

    size_t count() {
        size_t value = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            value = value * 10 + (s_[pos_] - '0');
            ++pos_;
            if (value > kMaxCount) {
                unsupported("a repetition count above " + std::to_string(kMaxCount));
            }
        }
        return value;
    }

    std::string quantified(std::string item) {
        std::string suffix;
        if (consume('*')) {
            suffix = "*";
        } else if (consume('+')) {
            suffix = "+";
        } else if (consume('?')) {
            suffix = "?";
        } else if (at('{') && quantifier_counts_ahead()) {
            ++pos_;
            const size_t min = count();
            suffix = "{" + std::to_string(min);
            if (consume(',')) {
                suffix += ",";
                if (!at('}')) {
                    const size_t max = count();
                    if (max < min) {
                        malformed("quantifier {" + std::to_string(min) + "," + std::to_string(max) +
                                  "} has its maximum below its minimum");
                    }
                    suffix += std::to_string(max);
                }
            }
            consume('}');
            suffix += "}";
        } else {
            return item;
        }
        consume('?');  // lazy: the same strings
        if (at('*') || at('+') || at('?') || (at('{') && quantifier_counts_ahead())) {
            malformed("nothing to repeat (two quantifiers in a row)");
        }
        return item + suffix;
    }

    char32_t hex(int digits) {
        char32_t value = 0;
        for (int i = 0; i < digits; ++i) {
            if (pos_ >= s_.size()) malformed("expected " + std::to_string(digits) + " hex digits");
            const char32_t c = s_[pos_];
            int v = c >= '0' && c <= '9'   ? int(c - '0')
                    : c >= 'a' && c <= 'f' ? int(c - 'a' + 10)
                    : c >= 'A' && c <= 'F' ? int(c - 'A' + 10)
                                           : -1;
            if (v < 0) malformed("expected " + std::to_string(digits) + " hex digits");
            value = value * 16 + static_cast<char32_t>(v);
            ++pos_;
        }
        return value;
    }

    char32_t unicode_escape() {
        if (consume('{')) {
            char32_t value = 0;
            size_t n = 0;
            while (!at('}')) {
                value = value * 16 + hex(1);
                if (++n > 6 || value > 0x10FFFF) malformed("code point above U+10FFFF");
            }
            ++pos_;
            return value;
        }
        char32_t value = hex(4);
        if (value >= 0xD800 && value <= 0xDBFF && pos_ + 1 < s_.size() && s_[pos_] == '\\' &&
            s_[pos_ + 1] == 'u') {
            const size_t save = pos_;
            pos_ += 2;
            const char32_t low = hex(4);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                return 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00);
            }
            pos_ = save;
        }
        if (value >= 0xD800 && value <= 0xDFFF) unsupported("a lone surrogate escape");
        return value;
    }

    // After a backslash: the set it stands for (one character for most escapes).
    CodeRanges escape(bool in_class) {
        if (pos_ >= s_.size()) malformed("pattern ends with '\\'");
        const char32_t c = s_[pos_++];
        auto negated = [&](CodeRanges set) {
            if (in_class) unsupported("a negated shorthand (\\D, \\W, \\S) inside a class");
            return complement_ranges(set);
        };
        auto one = [](char32_t cp) { return CodeRanges{{cp, cp}}; };
        switch (c) {
            case 'd':
                return digits();
            case 'D':
                return negated(digits());
            case 'w':
                return word_chars();
            case 'W':
                return negated(word_chars());
            case 's':
                return space_chars();
            case 'S':
                return negated(space_chars());
            case 't':
                return one('\t');
            case 'n':
                return one('\n');
            case 'r':
                return one('\r');
            case 'f':
                return one(0x0C);
            case 'v':
                return one(0x0B);
            case '0':
                if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                    unsupported("an octal escape");
                }
                return one(0);
            case 'x':
                return one(hex(2));
            case 'u':
                return one(unicode_escape());
            case 'b':
                if (in_class) return one(0x08);
                unsupported("the word boundary \\b");
            case 'B':
                unsupported("the non-boundary \\B");
            case 'p':
            case 'P':
                unsupported("Unicode property escapes \\p{...}");
            case 'c':
                unsupported("control escapes \\cX");
            case 'k':
                unsupported("named backreferences \\k<...>");
            default:
                if (c >= '1' && c <= '9') {
                    unsupported("backreferences \\" + std::string(1, static_cast<char>(c)));
                }
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                    malformed("unknown escape \\" + std::string(1, static_cast<char>(c)));
                }
                return one(c);  // an escaped metacharacter or any other symbol: itself
        }
    }

    CodeRanges char_class() {
        const size_t open = pos_;
        ++pos_;  // '['
        const bool negate = consume('^');
        CodeRanges ranges;
        auto class_atom = [&](bool& is_set) -> CodeRanges {
            is_set = false;
            if (consume('\\')) {
                const char32_t c = pos_ < s_.size() ? s_[pos_] : 0;
                CodeRanges set = escape(true);
                is_set = c == 'd' || c == 'w' || c == 's';
                return set;
            }
            const char32_t c = s_[pos_++];
            return {{c, c}};
        };
        while (pos_ < s_.size() && !at(']')) {
            bool lo_is_set = false;
            CodeRanges lo = class_atom(lo_is_set);
            if (at('-') && pos_ + 1 < s_.size() && s_[pos_ + 1] != ']') {
                ++pos_;
                bool hi_is_set = false;
                CodeRanges hi = class_atom(hi_is_set);
                if (lo_is_set || hi_is_set) {
                    unsupported("a range with a shorthand (\\d, \\w, \\s) as an end");
                }
                if (hi[0].first < lo[0].first) malformed("reversed range in a class");
                ranges.emplace_back(lo[0].first, hi[0].first);
            } else {
                ranges.insert(ranges.end(), lo.begin(), lo.end());
            }
        }
        if (!consume(']')) {
            pos_ = open;
            malformed("unclosed character class");
        }
        CodeRanges set = normalize_ranges(ranges);
        return negate ? complement_ranges(set) : set;
    }

    std::string_view original_;
    std::string any_;
    std::u32string s_;
    size_t pos_ = 0;
    size_t depth_ = 0;
};

}  // namespace

std::string pattern_to_gbnf(std::string_view pattern, std::string_view any_char_rule) {
    return PatternParser(pattern, any_char_rule).run();
}

}  // namespace loom::server

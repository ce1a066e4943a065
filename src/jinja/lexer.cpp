// Jinja lexer.
#include "jinja/lexer.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace loom::jinja {
namespace {

[[noreturn]] void fail(size_t line, const std::string& what) {
    throw Error(ErrorCode::Format, "template line " + std::to_string(line) + ": " + what);
}

size_t count_lines(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
public:
    Lexer(std::string_view src, const LexOptions& options) : src_(src), options_(options) {}

    std::vector<Token> run();

private:
    void emit_text(std::string text) {
        if (!text.empty()) tokens_.push_back(Token{TokenKind::Text, std::move(text), line_});
    }
    // Lexes the inside of a tag up to its closer; returns the position after it and
    // whether the closer had a '-'.
    size_t lex_tag(size_t pos, std::string_view closer, bool& strip_after);
    size_t lex_string(size_t pos, char quote);

    std::string_view src_;
    const LexOptions& options_;
    std::vector<Token> tokens_;
    size_t line_ = 1;
};

size_t Lexer::lex_string(size_t pos, char quote) {
    std::string value;
    size_t start_line = line_;
    ++pos;
    while (pos < src_.size() && src_[pos] != quote) {
        char c = src_[pos];
        if (c == '\n') ++line_;
        if (c == '\\' && pos + 1 < src_.size()) {
            char e = src_[++pos];
            switch (e) {
                case 'n': value += '\n'; break;
                case 't': value += '\t'; break;
                case 'r': value += '\r'; break;
                case '\\': value += '\\'; break;
                case '\'': value += '\''; break;
                case '"': value += '"'; break;
                case '0': value += '\0'; break;
                default:
                    value += '\\';
                    value += e;
            }
            ++pos;
            continue;
        }
        value += c;
        ++pos;
    }
    if (pos >= src_.size()) fail(start_line, "unterminated string literal");
    tokens_.push_back(Token{TokenKind::String, std::move(value), start_line});
    return pos + 1;
}

size_t Lexer::lex_tag(size_t pos, std::string_view closer, bool& strip_after) {
    while (true) {
        while (pos < src_.size() && is_space(src_[pos])) {
            if (src_[pos] == '\n') ++line_;
            ++pos;
        }
        if (pos >= src_.size()) fail(line_, "unterminated tag: expected '" + std::string(closer) + "'");
        if (src_[pos] == '-' && src_.compare(pos + 1, closer.size(), closer) == 0) {
            strip_after = true;
            return pos + 1 + closer.size();
        }
        if (src_[pos] == '+' && src_.compare(pos + 1, closer.size(), closer) == 0) {
            return pos + 1 + closer.size();
        }
        if (src_.compare(pos, closer.size(), closer) == 0) return pos + closer.size();
        char c = src_[pos];
        if (c == '\'' || c == '"') {
            pos = lex_string(pos, c);
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            size_t start = pos;
            while (pos < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos])) || src_[pos] == '_')) ++pos;
            bool is_float = false;
            if (pos + 1 < src_.size() && src_[pos] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos + 1]))) {
                is_float = true;
                ++pos;
                while (pos < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos]))) ++pos;
            }
            if (pos < src_.size() && (src_[pos] == 'e' || src_[pos] == 'E')) {
                size_t save = pos++;
                if (pos < src_.size() && (src_[pos] == '+' || src_[pos] == '-')) ++pos;
                if (pos < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos]))) {
                    is_float = true;
                    while (pos < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos]))) ++pos;
                } else {
                    pos = save;
                }
            }
            std::string text;
            for (char d : src_.substr(start, pos - start)) {
                if (d != '_') text += d;
            }
            tokens_.push_back(Token{is_float ? TokenKind::Float : TokenKind::Integer, text, line_});
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t start = pos;
            while (pos < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos])) || src_[pos] == '_')) ++pos;
            tokens_.push_back(Token{TokenKind::Name, std::string(src_.substr(start, pos - start)), line_});
            continue;
        }
        static constexpr std::string_view two_char[] = {"//", "**", "==", "!=", "<=", ">="};
        bool matched = false;
        for (std::string_view op : two_char) {
            if (src_.compare(pos, 2, op) == 0) {
                tokens_.push_back(Token{TokenKind::Operator, std::string(op), line_});
                pos += 2;
                matched = true;
                break;
            }
        }
        if (matched) continue;
        if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) != std::string_view::npos) {
            tokens_.push_back(Token{TokenKind::Operator, std::string(1, c), line_});
            ++pos;
            continue;
        }
        fail(line_, std::string("unexpected character '") + c + "' in a tag");
    }
}

std::vector<Token> Lexer::run() {
    size_t pos = 0;
    bool strip_next = false;  // previous tag ended with '-'
    bool trim_next = false;   // previous tag was a block/comment tag (trim_blocks)
    while (pos <= src_.size()) {
        size_t open = src_.find('{', pos);
        while (open != std::string_view::npos && open + 1 < src_.size() &&
               src_[open + 1] != '{' && src_[open + 1] != '%' && src_[open + 1] != '#') {
            open = src_.find('{', open + 1);
        }
        if (open != std::string_view::npos && open + 1 >= src_.size()) open = std::string_view::npos;
        std::string text(src_.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
        size_t text_lines = count_lines(text);
        if (strip_next) {
            size_t k = 0;
            while (k < text.size() && is_space(text[k])) ++k;
            text.erase(0, k);
        } else if (trim_next && options_.trim_blocks) {
            if (text.rfind("\r\n", 0) == 0) text.erase(0, 2);
            else if (!text.empty() && text[0] == '\n') text.erase(0, 1);
        }
        if (open == std::string_view::npos) {
            emit_text(std::move(text));
            break;
        }
        char kind = src_[open + 1];
        size_t inner = open + 2;
        bool strip_before = false;
        bool keep_before = false;
        if (inner < src_.size() && src_[inner] == '-') {
            strip_before = true;
            ++inner;
        } else if (inner < src_.size() && src_[inner] == '+') {
            keep_before = true;
            ++inner;
        }
        if (strip_before) {
            while (!text.empty() && is_space(text.back())) text.pop_back();
        } else if (kind != '{' && options_.lstrip_blocks && !keep_before) {
            // Blanks between the start of a source line and a block or comment tag go.
            size_t k = open;
            while (k > pos && (src_[k - 1] == ' ' || src_[k - 1] == '\t')) --k;
            bool at_line_start = k == 0 || src_[k - 1] == '\n';
            if (at_line_start) text.erase(text.size() - std::min(open - k, text.size()));
        }
        emit_text(std::move(text));
        line_ += text_lines;
        strip_next = false;
        trim_next = false;
        if (kind == '#') {
            size_t close = src_.find("#}", inner);
            if (close == std::string_view::npos) fail(line_, "unterminated comment");
            line_ += count_lines(src_.substr(inner, close - inner));
            strip_next = close > inner && src_[close - 1] == '-';
            trim_next = true;
            pos = close + 2;
            continue;
        }
        bool strip_after = false;
        if (kind == '{') {
            tokens_.push_back(Token{TokenKind::ExprBegin, "{{", line_});
            pos = lex_tag(inner, "}}", strip_after);
            tokens_.push_back(Token{TokenKind::ExprEnd, "}}", line_});
        } else {
            size_t first = tokens_.size();
            tokens_.push_back(Token{TokenKind::StmtBegin, "{%", line_});
            pos = lex_tag(inner, "%}", strip_after);
            tokens_.push_back(Token{TokenKind::StmtEnd, "%}", line_});
            trim_next = true;
            if (tokens_.size() == first + 3 && tokens_[first + 1].kind == TokenKind::Name &&
                tokens_[first + 1].text == "raw") {
                tokens_.resize(first);
                // Body up to {% endraw %}, verbatim.
                size_t search = pos;
                while (true) {
                    size_t tag = src_.find("{%", search);
                    if (tag == std::string_view::npos) fail(line_, "unterminated {% raw %} block");
                    size_t k = tag + 2;
                    bool strip_raw_end = k < src_.size() && src_[k] == '-';
                    if (strip_raw_end) ++k;
                    while (k < src_.size() && is_space(src_[k])) ++k;
                    if (src_.compare(k, 6, "endraw") == 0) {
                        size_t close = src_.find("%}", k);
                        if (close == std::string_view::npos) fail(line_, "unterminated tag");
                        std::string body(src_.substr(pos, tag - pos));
                        if (strip_after) {
                            size_t b = 0;
                            while (b < body.size() && is_space(body[b])) ++b;
                            body.erase(0, b);
                        } else if (options_.trim_blocks && !body.empty() && body[0] == '\n') {
                            body.erase(0, 1);
                        }
                        if (strip_raw_end) {
                            while (!body.empty() && is_space(body.back())) body.pop_back();
                        }
                        line_ += count_lines(src_.substr(pos, close - pos));
                        emit_text(std::move(body));
                        strip_after = close > 0 && src_[close - 1] == '-';
                        pos = close + 2;
                        break;
                    }
                    search = tag + 2;
                }
            }
        }
        strip_next = strip_after;
    }
    tokens_.push_back(Token{TokenKind::End, "", line_});
    return tokens_;
}

}  // namespace

// jinja2 reads a template as source.splitlines() joined by "\n": every Python line
// break (\r\n, \r, \v, \f, \x1c-\x1e, U+0085, U+2028, U+2029) becomes "\n", and
// one trailing line break is dropped (keep_trailing_newline=False).
static std::string normalize_newlines(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '\r') {
            if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
            out += '\n';
        } else if (c == '\n' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e) {
            out += '\n';
        } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
            out += '\n';
            ++i;
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
            out += '\n';
            i += 2;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::vector<Token> lex(std::string_view source, const LexOptions& options) {
    std::string normalized = normalize_newlines(source);
    return Lexer(normalized, options).run();
}

}  // namespace loom::jinja

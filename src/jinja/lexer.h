// Jinja lexer: template source -> tokens. Text between tags becomes Text tokens with
// jinja2's whitespace control already applied: "-" on a tag strips all whitespace on
// that side; with trim_blocks the newline after a block or comment tag is dropped; with
// lstrip_blocks spaces and tabs before a block or comment tag that starts a line are
// dropped ("+" on the tag keeps them). {% raw %} bodies come out as Text. Comments
// vanish. Spec: jinja2 docs "Whitespace Control", jinja2/lexer.py (behaviour).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace loom::jinja {

enum class TokenKind {
    Text,       // literal template text
    ExprBegin,  // {{
    ExprEnd,    // }}
    StmtBegin,  // {%
    StmtEnd,    // %}
    Name,
    String,     // value already unescaped
    Integer,
    Float,
    Operator,   // + - * / // % ** ~ == != < > <= >= = ( ) [ ] { } , . : |
    End,
};

struct Token {
    TokenKind kind;
    std::string text;
    size_t line;
};

struct LexOptions {
    bool trim_blocks = true;    // as Hugging Face renders chat templates
    bool lstrip_blocks = true;
};

// Throws loom::Error (Format) naming the line for an unterminated tag, string or comment.
std::vector<Token> lex(std::string_view source, const LexOptions& options = {});

}  // namespace loom::jinja

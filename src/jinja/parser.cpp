// Jinja parser (recursive descent).
#include "jinja/parser.h"

#include <cstdlib>
#include <initializer_list>

#include "core/error.h"

namespace loom::jinja {
namespace {

class Parser {
public:
    explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

    Body parse_template() {
        Body body = parse_body({});
        if (peek().kind != TokenKind::End) fail("unexpected '" + peek().text + "'");
        return body;
    }

private:
    const Token& peek(size_t ahead = 0) const {
        size_t i = pos_ + ahead;
        return i < t_.size() ? t_[i] : t_.back();
    }
    const Token& next() {
        const Token& tok = peek();
        if (pos_ < t_.size() - 1) ++pos_;
        return tok;
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorCode::Format, "template line " + std::to_string(peek().line) + ": " + what);
    }
    bool is_op(std::string_view op, size_t ahead = 0) const {
        return peek(ahead).kind == TokenKind::Operator && peek(ahead).text == op;
    }
    bool is_name(std::string_view name, size_t ahead = 0) const {
        return peek(ahead).kind == TokenKind::Name && peek(ahead).text == name;
    }
    bool accept_op(std::string_view op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool accept_name(std::string_view name) {
        if (!is_name(name)) return false;
        next();
        return true;
    }
    void expect_op(std::string_view op) {
        if (!accept_op(op)) fail("expected '" + std::string(op) + "', found '" + peek().text + "'");
    }
    std::string expect_name() {
        if (peek().kind != TokenKind::Name) fail("expected a name, found '" + peek().text + "'");
        return next().text;
    }
    void expect_stmt_end() {
        if (peek().kind != TokenKind::StmtEnd) fail("expected '%}', found '" + peek().text + "'");
        next();
    }

    // Statements until one of the end keywords (left unconsumed, after its "{%").
    Body parse_body(std::initializer_list<std::string_view> ends);
    NodePtr parse_statement();
    NodePtr parse_if();
    NodePtr parse_for();
    NodePtr parse_set();
    NodePtr parse_macro();
    NodePtr parse_call_block();
    NodePtr parse_filter_block();
    NodePtr parse_block(std::string_view end);

    ExprPtr parse_expression(bool with_conditional = true);
    ExprPtr parse_tuple_or_expression();
    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary(bool with_filter = true);
    ExprPtr parse_primary();
    ExprPtr parse_postfix(ExprPtr node);
    ExprPtr parse_filters_and_tests(ExprPtr node);
    ExprPtr parse_subscript(ExprPtr node);
    void parse_call_args(CallArgs& args);
    ExprPtr make(ExprKind kind) { return std::make_unique<Expr>(kind, peek().line); }
    ExprPtr binary(std::string op, ExprPtr left, ExprPtr right) {
        auto e = make(ExprKind::Binary);
        e->name = std::move(op);
        e->a = std::move(left);
        e->b = std::move(right);
        return e;
    }

    // Nesting guard: a hostile template of 100k "(" must fail, not overflow the stack.
    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& parser) : p(parser) {
            if (++p.depth_ > kMaxDepth) p.fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
        }
        ~DepthGuard() { --p.depth_; }
    };
    static constexpr int kMaxDepth = 200;

    const std::vector<Token>& t_;
    size_t pos_ = 0;
    int depth_ = 0;
};

Body Parser::parse_body(std::initializer_list<std::string_view> ends) {
    Body body;
    while (true) {
        const Token& tok = peek();
        if (tok.kind == TokenKind::End) {
            if (ends.size() != 0) fail("missing '{% " + std::string(*(ends.end() - 1)) + " %}'");
            return body;
        }
        if (tok.kind == TokenKind::Text) {
            auto node = std::make_unique<Node>(NodeKind::Text, tok.line);
            node->text = next().text;
            body.push_back(std::move(node));
            continue;
        }
        if (tok.kind == TokenKind::ExprBegin) {
            next();
            auto node = std::make_unique<Node>(NodeKind::Output, tok.line);
            node->expr = parse_tuple_or_expression();
            if (peek().kind != TokenKind::ExprEnd) fail("expected '}}', found '" + peek().text + "'");
            next();
            body.push_back(std::move(node));
            continue;
        }
        if (tok.kind == TokenKind::StmtBegin) {
            for (std::string_view end : ends) {
                if (is_name(end, 1)) {
                    next();  // "{%": the caller reads the keyword
                    return body;
                }
            }
            next();
            body.push_back(parse_statement());
            continue;
        }
        fail("unexpected '" + tok.text + "'");
    }
}

NodePtr Parser::parse_statement() {
    DepthGuard guard(*this);
    if (peek().kind != TokenKind::Name) fail("expected a statement after '{%'");
    std::string keyword = peek().text;
    if (keyword == "if") return parse_if();
    if (keyword == "for") return parse_for();
    if (keyword == "set") return parse_set();
    if (keyword == "macro") return parse_macro();
    if (keyword == "call") return parse_call_block();
    if (keyword == "filter") return parse_filter_block();
    if (keyword == "generation") return parse_block("endgeneration");
    if (keyword == "break" || keyword == "continue") {
        auto node = std::make_unique<Node>(keyword == "break" ? NodeKind::Break : NodeKind::Continue, peek().line);
        next();
        expect_stmt_end();
        return node;
    }
    fail("unsupported statement '" + keyword + "'");
}

NodePtr Parser::parse_if() {
    auto node = std::make_unique<Node>(NodeKind::If, peek().line);
    next();  // if
    ExprPtr cond = parse_tuple_or_expression();
    expect_stmt_end();
    Body body = parse_body({"elif", "else", "endif"});
    node->branches.emplace_back(std::move(cond), std::move(body));
    while (true) {
        std::string keyword = expect_name();
        if (keyword == "elif") {
            ExprPtr c = parse_tuple_or_expression();
            expect_stmt_end();
            Body b = parse_body({"elif", "else", "endif"});
            node->branches.emplace_back(std::move(c), std::move(b));
        } else if (keyword == "else") {
            expect_stmt_end();
            node->else_body = parse_body({"endif"});
        } else {  // endif
            expect_stmt_end();
            return node;
        }
    }
}

NodePtr Parser::parse_for() {
    auto node = std::make_unique<Node>(NodeKind::For, peek().line);
    next();  // for
    do {
        node->targets.push_back(expect_name());
    } while (accept_op(","));
    if (!accept_name("in")) fail("expected 'in' in a for loop");
    node->expr = parse_expression(false);
    if (accept_name("if")) node->filter = parse_expression(false);
    if (accept_name("recursive")) node->recursive = true;
    expect_stmt_end();
    node->body = parse_body({"else", "endfor"});
    if (expect_name() == "else") {
        expect_stmt_end();
        node->else_body = parse_body({"endfor"});
        expect_name();
    }
    expect_stmt_end();
    return node;
}

NodePtr Parser::parse_set() {
    auto node = std::make_unique<Node>(NodeKind::Set, peek().line);
    next();  // set
    std::string first = expect_name();
    if (accept_op(".")) {
        node->text = first;
        node->attr = expect_name();
    } else {
        node->targets.push_back(first);
        while (accept_op(",")) node->targets.push_back(expect_name());
    }
    if (accept_op("=")) {
        node->expr = parse_tuple_or_expression();
        expect_stmt_end();
        return node;
    }
    // Block set: {% set x %}...{% endset %}, possibly with filters.
    if (accept_op("|")) {
        node->filter = make(ExprKind::Filter);
        node->filter->name = expect_name();
        if (is_op("(")) {
            next();
            parse_call_args(node->filter->args);
        }
    }
    expect_stmt_end();
    node->body = parse_body({"endset"});
    expect_name();
    expect_stmt_end();
    return node;
}

NodePtr Parser::parse_macro() {
    auto node = std::make_unique<Node>(NodeKind::Macro, peek().line);
    next();  // macro
    node->text = expect_name();
    expect_op("(");
    while (!accept_op(")")) {
        std::string param = expect_name();
        ExprPtr fallback;
        if (accept_op("=")) fallback = parse_expression();
        node->params.emplace_back(param, std::move(fallback));
        if (!is_op(")")) expect_op(",");
    }
    expect_stmt_end();
    node->body = parse_body({"endmacro"});
    expect_name();
    if (peek().kind == TokenKind::Name) next();  // {% endmacro name %}
    expect_stmt_end();
    return node;
}

NodePtr Parser::parse_call_block() {
    auto node = std::make_unique<Node>(NodeKind::CallBlock, peek().line);
    next();  // call
    if (is_op("(")) {
        next();
        CallArgs ignored;
        parse_call_args(ignored);
        if (!ignored.positional.empty() || !ignored.keyword.empty()) fail("call blocks with caller arguments are not supported");
    }
    node->expr = parse_expression();
    if (node->expr->kind != ExprKind::Call) fail("expected a macro call after 'call'");
    expect_stmt_end();
    node->body = parse_body({"endcall"});
    expect_name();
    expect_stmt_end();
    return node;
}

NodePtr Parser::parse_filter_block() {
    auto node = std::make_unique<Node>(NodeKind::FilterBlock, peek().line);
    next();  // filter
    node->text = expect_name();
    if (accept_op("(")) parse_call_args(node->args);
    expect_stmt_end();
    node->body = parse_body({"endfilter"});
    expect_name();
    expect_stmt_end();
    return node;
}

NodePtr Parser::parse_block(std::string_view end) {
    auto node = std::make_unique<Node>(NodeKind::Block, peek().line);
    next();
    expect_stmt_end();
    node->body = parse_body({end});
    expect_name();
    expect_stmt_end();
    return node;
}

ExprPtr Parser::parse_tuple_or_expression() {
    ExprPtr first = parse_expression();
    if (!is_op(",")) return first;
    auto tuple = make(ExprKind::TupleLiteral);
    tuple->items.push_back(std::move(first));
    while (accept_op(",")) {
        if (peek().kind == TokenKind::StmtEnd || peek().kind == TokenKind::ExprEnd || is_op(")")) break;
        tuple->items.push_back(parse_expression());
    }
    return tuple;
}

ExprPtr Parser::parse_expression(bool with_conditional) {
    DepthGuard guard(*this);
    ExprPtr expr = parse_or();
    if (!with_conditional) return expr;
    while (is_name("if")) {
        next();
        auto cond = make(ExprKind::Conditional);
        cond->a = parse_or();
        cond->b = std::move(expr);
        if (accept_name("else")) cond->c = parse_expression();
        expr = std::move(cond);
    }
    return expr;
}

ExprPtr Parser::parse_or() {
    ExprPtr left = parse_and();
    while (accept_name("or")) left = binary("or", std::move(left), parse_and());
    return left;
}

ExprPtr Parser::parse_and() {
    ExprPtr left = parse_not();
    while (accept_name("and")) left = binary("and", std::move(left), parse_not());
    return left;
}

ExprPtr Parser::parse_not() {
    DepthGuard guard(*this);
    if (is_name("not")) {
        auto e = make(ExprKind::Unary);
        next();
        e->name = "not";
        e->a = parse_not();
        return e;
    }
    return parse_compare();
}

ExprPtr Parser::parse_compare() {
    ExprPtr left = parse_math1();
    while (true) {
        static constexpr std::string_view ops[] = {"==", "!=", "<", ">", "<=", ">="};
        bool matched = false;
        for (std::string_view op : ops) {
            if (is_op(op)) {
                next();
                left = binary(std::string(op), std::move(left), parse_math1());
                matched = true;
                break;
            }
        }
        if (matched) continue;
        if (is_name("in")) {
            next();
            left = binary("in", std::move(left), parse_math1());
        } else if (is_name("not") && is_name("in", 1)) {
            next();
            next();
            left = binary("not in", std::move(left), parse_math1());
        } else {
            return left;
        }
    }
}

ExprPtr Parser::parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
        std::string op = next().text;
        left = binary(op, std::move(left), parse_concat());
    }
    return left;
}

ExprPtr Parser::parse_concat() {
    ExprPtr left = parse_math2();
    while (accept_op("~")) left = binary("~", std::move(left), parse_math2());
    return left;
}

ExprPtr Parser::parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
        std::string op = next().text;
        left = binary(op, std::move(left), parse_pow());
    }
    return left;
}

ExprPtr Parser::parse_pow() {
    ExprPtr left = parse_unary();
    while (accept_op("**")) left = binary("**", std::move(left), parse_unary());
    return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
        auto e = make(ExprKind::Unary);
        e->name = next().text;
        e->a = parse_unary(false);
        node = std::move(e);
    } else {
        node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filters_and_tests(std::move(node));
    return node;
}

ExprPtr Parser::parse_primary() {
    const Token& tok = peek();
    switch (tok.kind) {
        case TokenKind::Name: {
            next();
            auto e = make(ExprKind::Literal);
            if (tok.text == "true" || tok.text == "True") {
                e->value = Value(true);
            } else if (tok.text == "false" || tok.text == "False") {
                e->value = Value(false);
            } else if (tok.text == "none" || tok.text == "None") {
                e->value = Value(None{});
            } else {
                e->kind = ExprKind::Name;
                e->name = tok.text;
            }
            return e;
        }
        case TokenKind::String: {
            std::string text = next().text;
            while (peek().kind == TokenKind::String) text += next().text;  // "a" "b"
            auto e = make(ExprKind::Literal);
            e->value = Value(std::move(text));
            return e;
        }
        case TokenKind::Integer: {
            auto e = make(ExprKind::Literal);
            e->value = Value(static_cast<int64_t>(std::strtoll(next().text.c_str(), nullptr, 10)));
            return e;
        }
        case TokenKind::Float: {
            auto e = make(ExprKind::Literal);
            e->value = Value(std::strtod(next().text.c_str(), nullptr));
            return e;
        }
        case TokenKind::Operator:
            if (tok.text == "(") {
                next();
                if (accept_op(")")) return make(ExprKind::TupleLiteral);
                ExprPtr inner = parse_tuple_or_expression();
                expect_op(")");
                return inner;
            }
            if (tok.text == "[") {
                next();
                auto list = make(ExprKind::ListLiteral);
                while (!accept_op("]")) {
                    list->items.push_back(parse_expression());
                    if (!is_op("]")) expect_op(",");
                }
                return list;
            }
            if (tok.text == "{") {
                next();
                auto dict = make(ExprKind::DictLiteral);
                while (!accept_op("}")) {
                    ExprPtr key = parse_expression();
                    expect_op(":");
                    ExprPtr value = parse_expression();
                    dict->pairs.emplace_back(std::move(key), std::move(value));
                    if (!is_op("}")) expect_op(",");
                }
                return dict;
            }
            break;
        default:
            break;
    }
    fail("unexpected '" + tok.text + "' in an expression");
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
    // After '[': an index, or a slice a:b:c with any part omitted.
    ExprPtr parts[3];
    bool is_slice = false;
    int part = 0;
    while (!is_op("]")) {
        if (accept_op(":")) {
            is_slice = true;
            if (++part > 2) fail("too many ':' in a slice");
            continue;
        }
        if (parts[part]) fail("expected ':' or ']' in a subscript");
        parts[part] = parse_expression();
    }
    next();  // ]
    if (is_slice) {
        auto e = make(ExprKind::Slice);
        e->a = std::move(node);
        e->b = std::move(parts[0]);
        e->c = std::move(parts[1]);
        e->d = std::move(parts[2]);
        return e;
    }
    if (!parts[0]) fail("empty subscript");
    auto e = make(ExprKind::Item);
    e->a = std::move(node);
    e->b = std::move(parts[0]);
    return e;
}

void Parser::parse_call_args(CallArgs& args) {
    // After '(' up to and including ')'.
    while (!accept_op(")")) {
        if (peek().kind == TokenKind::Name && is_op("=", 1)) {
            std::string name = next().text;
            next();
            args.keyword.emplace_back(name, parse_expression());
        } else {
            args.positional.push_back(parse_expression());
        }
        if (!is_op(")")) expect_op(",");
    }
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
    while (true) {
        if (is_op(".")) {
            next();
            auto e = make(ExprKind::Attr);
            if (peek().kind == TokenKind::Integer) {
                e->kind = ExprKind::Item;
                e->b = make(ExprKind::Literal);
                e->b->value = Value(static_cast<int64_t>(std::strtoll(next().text.c_str(), nullptr, 10)));
            } else {
                e->name = expect_name();
            }
            e->a = std::move(node);
            node = std::move(e);
        } else if (is_op("[")) {
            next();
            node = parse_subscript(std::move(node));
        } else if (is_op("(")) {
            next();
            auto e = make(ExprKind::Call);
            e->a = std::move(node);
            parse_call_args(e->args);
            node = std::move(e);
        } else {
            return node;
        }
    }
}

ExprPtr Parser::parse_filters_and_tests(ExprPtr node) {
    while (true) {
        if (is_op("|")) {
            next();
            auto e = make(ExprKind::Filter);
            e->name = expect_name();
            while (accept_op(".")) e->name += "." + expect_name();
            if (accept_op("(")) parse_call_args(e->args);
            e->a = std::move(node);
            node = parse_postfix(std::move(e));
        } else if (is_name("is")) {
            next();
            auto e = make(ExprKind::Test);
            e->negated = accept_name("not");
            e->name = expect_name();
            if (accept_op("(")) {
                parse_call_args(e->args);
            } else if (peek().kind == TokenKind::String || peek().kind == TokenKind::Integer ||
                       peek().kind == TokenKind::Float || is_op("[") || is_op("{") ||
                       (peek().kind == TokenKind::Name && !is_name("and") && !is_name("or") &&
                        !is_name("else") && !is_name("if") && !is_name("in") && !is_name("is") &&
                        !is_name("not"))) {
                e->args.positional.push_back(parse_postfix(parse_primary()));
            }
            e->a = std::move(node);
            node = std::move(e);
        } else {
            return node;
        }
    }
}

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_template(); }

}  // namespace loom::jinja

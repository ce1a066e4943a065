// Jinja interpreter: statements, expressions, operators, attribute lookup, macros.
// Integers are 64-bit; a result beyond that becomes a float (Python would keep a big int).
#include "jinja/interpreter.h"

#include <cmath>
#include <variant>

#include "core/error.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace loom::jinja {

constexpr int kMaxCallDepth = 200;  // macro recursion, as Python's own limit would stop it

void template_error(size_t line, const std::string& what) {
    throw Error(ErrorCode::Format, "template line " + std::to_string(line) + ": " + what);
}

const Value* Scope::lookup(const std::string& name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent_.get()) {
        auto it = s->vars_.find(name);
        if (it != s->vars_.end()) return &it->second;
    }
    return nullptr;
}

List iterate(const Value& v, size_t line) {
    if (v.is_list()) return v.as_list();
    if (v.is_iterator()) {
        IteratorState& it = v.as_iterator();
        if (it.consumed) return {};
        it.consumed = true;
        return it.items;
    }
    if (v.is_dict() || v.is_namespace()) {
        List keys;
        for (const auto& [k, item] : v.as_dict().entries()) keys.emplace_back(k);
        return keys;
    }
    if (v.is_string()) {
        List chars;
        const std::string& s = v.as_string();
        for (size_t i = 0; i < s.size();) {
            size_t n = utf8_char_bytes(s, i);
            chars.emplace_back(s.substr(i, n));
            i += n;
        }
        return chars;
    }
    if (v.is_undefined()) return {};
    template_error(line, "'" + v.type_name() + "' object is not iterable");
}

void Interpreter::render(const Body& body, const ScopePtr& scope, std::string& out) {
    exec(body, scope, out);
}

Interpreter::Flow Interpreter::exec(const Body& body, const ScopePtr& scope, std::string& out) {
    for (const NodePtr& node : body) {
        Flow flow = exec_node(*node, scope, out);
        if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
}

void Interpreter::step(size_t line, const std::string& out) {
    if (++steps_ > options_.max_steps) {
        template_error(line, "the template ran more than " + std::to_string(options_.max_steps) +
                                 " steps (a runaway loop?)");
    }
    if (out.size() > options_.max_output_bytes) {
        template_error(line, "the template's output passed " + std::to_string(options_.max_output_bytes) + " bytes");
    }
}

Interpreter::Flow Interpreter::exec_node(const Node& node, const ScopePtr& scope, std::string& out) {
    step(node.line, out);
    switch (node.kind) {
        case NodeKind::Text:
            out += node.text;
            return Flow::Normal;
        case NodeKind::Output:
            out += eval(*node.expr, scope).str();
            return Flow::Normal;
        case NodeKind::If:
            for (const auto& [cond, body] : node.branches) {
                if (eval(*cond, scope).truthy()) return exec(body, scope, out);
            }
            return exec(node.else_body, scope, out);
        case NodeKind::For:
            exec_for(node, scope, out);
            return Flow::Normal;
        case NodeKind::Set:
            exec_set(node, scope, out);
            return Flow::Normal;
        case NodeKind::Macro:
            scope->set(node.text, define_macro(node, scope));
            return Flow::Normal;
        case NodeKind::CallBlock: {
            // {% call m(args) %}body{% endcall %}: m sees the body as caller().
            auto caller = std::make_shared<Callable>();
            caller->name = "caller";
            const Body* body = &node.body;
            ScopePtr defining = scope;
            caller->call = [this, body, defining](Args&) -> Value {
                std::string text;
                exec(*body, std::make_shared<Scope>(defining), text);
                return Value(text);
            };
            auto inner = std::make_shared<Scope>(scope);
            inner->set("caller", Value(caller));
            out += eval(*node.expr, inner).str();
            return Flow::Normal;
        }
        case NodeKind::FilterBlock: {
            std::string text;
            exec(node.body, scope, text);
            Args args;
            eval_args(node.args, scope, args);
            out += apply_filter(node.text, Value(text), args, node.line).str();
            return Flow::Normal;
        }
        case NodeKind::Block:
            return exec(node.body, scope, out);
        case NodeKind::Break:
            return Flow::Break;
        case NodeKind::Continue:
            return Flow::Continue;
    }
    return Flow::Normal;
}

void Interpreter::exec_for(const Node& node, const ScopePtr& scope, std::string& out) {
    Value iterable = eval(*node.expr, scope);
    List items = iterate(iterable, node.line);
    if (node.filter) {
        List kept;
        for (Value& item : items) {
            auto probe = std::make_shared<Scope>(scope);
            if (node.targets.size() == 1) {
                probe->set(node.targets[0], item);
            } else if (item.is_list()) {
                for (size_t t = 0; t < node.targets.size() && t < item.as_list().size(); ++t) {
                    probe->set(node.targets[t], item.as_list()[t]);
                }
            }
            if (eval(*node.filter, probe).truthy()) kept.push_back(std::move(item));
        }
        items.swap(kept);
    }
    if (items.empty()) {
        exec(node.else_body, scope, out);
        return;
    }
    auto length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
        step(node.line, out);
        auto inner = std::make_shared<Scope>(scope);
        const Value& item = items[i];
        if (node.targets.size() == 1) {
            inner->set(node.targets[0], item);
        } else {
            if (!item.is_list() || item.as_list().size() != node.targets.size()) {
                template_error(node.line, "cannot unpack " + item.type_name() + " into " +
                                              std::to_string(node.targets.size()) + " loop variables");
            }
            for (size_t t = 0; t < node.targets.size(); ++t) inner->set(node.targets[t], item.as_list()[t]);
        }
        Dict loop;
        loop.set("index", Value(i + 1));
        loop.set("index0", Value(i));
        loop.set("revindex", Value(length - i));
        loop.set("revindex0", Value(length - i - 1));
        loop.set("first", Value(i == 0));
        loop.set("last", Value(i == length - 1));
        loop.set("length", Value(length));
        loop.set("depth", Value(int64_t{1}));
        loop.set("depth0", Value(int64_t{0}));
        loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("loop.previtem"));
        loop.set("nextitem", i + 1 < length ? items[i + 1] : Value::undefined("loop.nextitem"));
        auto cycle = std::make_shared<Callable>();
        cycle->name = "loop.cycle";
        cycle->call = [i](Args& args) -> Value {
            if (args.positional.empty()) return Value::undefined("loop.cycle");
            return args.positional[static_cast<size_t>(i) % args.positional.size()];
        };
        loop.set("cycle", Value(cycle));
        inner->set("loop", Value(std::move(loop)));
        Flow flow = exec(node.body, inner, out);
        if (flow == Flow::Break) break;
    }
}

void Interpreter::exec_set(const Node& node, const ScopePtr& scope, std::string& out) {
    (void)out;
    Value value;
    if (node.expr) {
        value = eval(*node.expr, scope);
    } else {
        std::string text;
        exec(node.body, scope, text);
        value = Value(text);
        if (node.filter) {
            Args args;
            eval_args(node.filter->args, scope, args);
            value = apply_filter(node.filter->name, value, args, node.line);
        }
    }
    if (!node.attr.empty()) {
        const Value* target = scope->lookup(node.text);
        if (target == nullptr || !target->is_namespace()) {
            template_error(node.line, "cannot assign attribute on non-namespace object '" + node.text + "'");
        }
        target->as_dict().set(node.attr, std::move(value));
        return;
    }
    if (node.targets.size() == 1) {
        scope->set(node.targets[0], std::move(value));
        return;
    }
    List items = iterate(value, node.line);
    if (items.size() != node.targets.size()) {
        template_error(node.line, "cannot unpack " + std::to_string(items.size()) + " values into " +
                                      std::to_string(node.targets.size()) + " names");
    }
    for (size_t t = 0; t < node.targets.size(); ++t) scope->set(node.targets[t], items[t]);
}

Value Interpreter::define_macro(const Node& node, const ScopePtr& scope) {
    auto macro = std::make_shared<Callable>();
    macro->name = node.text;
    const Node* def = &node;
    // Weak: the macro is stored in the scope it captures; a strong pointer would be a cycle.
    std::weak_ptr<Scope> defining = scope;
    macro->call = [this, def, defining](Args& args) -> Value {
        ScopePtr parent = defining.lock();
        if (!parent) template_error(def->line, "macro '" + def->text + "' was called after its scope ended");
        if (++depth_ > kMaxCallDepth) {
            --depth_;
            template_error(def->line, "macro '" + def->text + "' recursed more than " +
                                          std::to_string(kMaxCallDepth) + " levels");
        }
        auto inner = std::make_shared<Scope>(parent);
        for (size_t p = 0; p < def->params.size(); ++p) {
            const auto& [name, fallback] = def->params[p];
            if (args.has(p, name)) {
                inner->set(name, args.get(p, name));
            } else if (fallback) {
                inner->set(name, eval(*fallback, inner));
            } else {
                inner->set(name, Value::undefined(name));
            }
        }
        List varargs;
        for (size_t p = def->params.size(); p < args.positional.size(); ++p) varargs.push_back(args.positional[p]);
        inner->set("varargs", Value(std::move(varargs)));
        Dict kwargs;
        for (const auto& [k, v] : args.keyword) {
            bool is_param = false;
            for (const auto& param : def->params) is_param = is_param || param.first == k;
            if (!is_param) kwargs.set(k, v);
        }
        inner->set("kwargs", Value(std::move(kwargs)));
        std::string text;
        try {
            exec(def->body, inner, text);
        } catch (...) {
            --depth_;
            throw;
        }
        --depth_;
        return Value(text);
    };
    return Value(macro);
}

void Interpreter::eval_args(const CallArgs& in, const ScopePtr& scope, Args& out) {
    for (const ExprPtr& e : in.positional) out.positional.push_back(eval(*e, scope));
    for (const auto& [k, e] : in.keyword) out.keyword.emplace_back(k, eval(*e, scope));
}

Value Interpreter::call(const Value& callee, Args& args, size_t line) {
    if (callee.is_undefined()) {
        template_error(line, "'" + (callee.undefined_name().empty() ? "value" : callee.undefined_name()) +
                                 "' is undefined and cannot be called");
    }
    if (!callee.is_callable()) template_error(line, "'" + callee.type_name() + "' object is not callable");
    const Callable& c = callee.as_callable();
    args.function = c.name;
    try {
        return c.call(args);
    } catch (const Error& e) {
        throw;
    }
}

Value Interpreter::apply_filter(const std::string& name, const Value& operand, Args& args, size_t line) {
    FilterFn f = find_filter(name);
    if (f == nullptr) template_error(line, "no filter named '" + name + "'");
    args.function = name;
    return f(*this, operand, args, line);
}

bool Interpreter::apply_test(const std::string& name, const Value& operand, Args& args, size_t line) {
    TestFn t = find_test(name);
    if (t == nullptr) template_error(line, "no test named '" + name + "'");
    args.function = name;
    return t(*this, operand, args, line);
}

Value Interpreter::get_attr(const Value& object, const std::string& name, size_t line) {
    if (object.is_undefined()) {
        template_error(line, "'" + (object.undefined_name().empty() ? "value" : object.undefined_name()) +
                                 "' is undefined (reading its attribute '" + name + "')");
    }
    if (object.is_dict()) {
        Value method = bound_method(object, name, line);
        if (!method.is_undefined()) return method;
        if (const Value* v = object.as_dict().find(name)) return *v;
        return Value::undefined(name);
    }
    if (object.is_namespace()) {
        if (const Value* v = object.as_dict().find(name)) return *v;
        return Value::undefined(name);
    }
    Value method = bound_method(object, name, line);
    if (!method.is_undefined()) return method;
    return Value::undefined(name);
}

static int64_t normalize_index(int64_t i, size_t size) { return i < 0 ? i + static_cast<int64_t>(size) : i; }

Value Interpreter::get_item(const Value& object, const Value& key, size_t line) {
    if (object.is_undefined()) {
        template_error(line, "'" + (object.undefined_name().empty() ? "value" : object.undefined_name()) +
                                 "' is undefined (reading an item)");
    }
    if (object.is_dict() || object.is_namespace()) {
        if (const Value* v = object.as_dict().find(key)) return *v;
        if (key.is_string() && object.is_dict()) return get_attr(object, key.as_string(), line);
        return Value::undefined(key.str());
    }
    if (object.is_iterator()) template_error(line, "'" + object.type_name() + "' object is not subscriptable");
    if (object.is_list()) {
        if (!key.is_int() && !key.is_bool()) return Value::undefined();
        const List& list = object.as_list();
        int64_t i = normalize_index(key.is_bool() ? key.as_bool() : key.as_int(), list.size());
        if (i < 0 || i >= static_cast<int64_t>(list.size())) return Value::undefined("list index");
        return list[static_cast<size_t>(i)];
    }
    if (object.is_string()) {
        if (!key.is_int()) return get_attr(object, key.str(), line);
        const std::string& s = object.as_string();
        int64_t n = static_cast<int64_t>(utf8_length(s));
        int64_t i = normalize_index(key.as_int(), static_cast<size_t>(n));
        if (i < 0 || i >= n) return Value::undefined("string index");
        return Value(utf8_slice(s, i, i + 1, 1));
    }
    if (key.is_string()) return get_attr(object, key.as_string(), line);
    return Value::undefined();
}

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
    switch (e.kind) {
        case ExprKind::Literal:
            return e.value;
        case ExprKind::Name: {
            const Value* v = scope->lookup(e.name);
            return v != nullptr ? *v : Value::undefined(e.name);
        }
        case ExprKind::ListLiteral:
        case ExprKind::TupleLiteral: {
            List items;
            for (const ExprPtr& item : e.items) items.push_back(eval(*item, scope));
            return e.kind == ExprKind::TupleLiteral ? Value::tuple(std::move(items)) : Value(std::move(items));
        }
        case ExprKind::DictLiteral: {
            Dict d;
            for (const auto& [k, v] : e.pairs) d.set(eval(*k, scope), eval(*v, scope));
            return Value(std::move(d));
        }
        case ExprKind::Attr:
            return get_attr(eval(*e.a, scope), e.name, e.line);
        case ExprKind::Item:
            return get_item(eval(*e.a, scope), eval(*e.b, scope), e.line);
        case ExprKind::Slice: {
            Value object = eval(*e.a, scope);
            auto bound = [&](const ExprPtr& p, bool& given) -> int64_t {
                given = false;
                if (!p) return 0;
                Value v = eval(*p, scope);
                if (v.is_none()) return 0;
                if (!v.is_int()) template_error(e.line, "slice indices must be integers");
                given = true;
                return v.as_int();
            };
            bool has_start = false, has_stop = false, has_step = false;
            int64_t start = bound(e.b, has_start);
            int64_t stop = bound(e.c, has_stop);
            int64_t step = bound(e.d, has_step);
            if (!has_step) step = 1;
            if (step == 0) template_error(e.line, "slice step cannot be zero");
            auto resolve = [&](size_t size) {
                auto n = static_cast<int64_t>(size);
                auto clamp = [&](int64_t v, bool given, int64_t dflt) {
                    if (!given) return dflt;
                    if (v < 0) v += n;
                    if (step > 0) return std::clamp<int64_t>(v, 0, n);
                    return std::clamp<int64_t>(v, -1, n - 1);
                };
                int64_t s = clamp(start, has_start, step > 0 ? 0 : n - 1);
                int64_t t = clamp(stop, has_stop, step > 0 ? n : -1);
                return std::pair<int64_t, int64_t>(s, t);
            };
            if (object.is_string()) {
                auto [s, t] = resolve(utf8_length(object.as_string()));
                return Value(utf8_slice(object.as_string(), s, t, step));
            }
            if (object.is_list()) {
                const List& list = object.as_list();
                auto [s, t] = resolve(list.size());
                List out;
                for (int64_t i = s; step > 0 ? i < t : i > t; i += step) out.push_back(list[static_cast<size_t>(i)]);
                return Value(std::move(out));
            }
            if (object.is_undefined()) template_error(e.line, "'" + object.undefined_name() + "' is undefined (slicing)");
            template_error(e.line, "'" + object.type_name() + "' object is not subscriptable");
        }
        case ExprKind::Call:
            return eval_args_call(e, scope);
        case ExprKind::Filter: {
            Value operand = eval(*e.a, scope);
            Args args;
            eval_args(e.args, scope, args);
            return apply_filter(e.name, operand, args, e.line);
        }
        case ExprKind::Test: {
            Value operand = eval(*e.a, scope);
            Args args;
            eval_args(e.args, scope, args);
            bool result = apply_test(e.name, operand, args, e.line);
            return Value(e.negated ? !result : result);
        }
        case ExprKind::Unary: {
            Value v = eval(*e.a, scope);
            if (e.name == "not") return Value(!v.truthy());
            if (v.is_undefined()) template_error(e.line, "'" + v.undefined_name() + "' is undefined");
            if (!v.is_number() && !v.is_bool()) {
                template_error(e.line, "bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
            }
            if (e.name == "+") return v.is_bool() ? Value(int64_t{v.as_bool()}) : v;
            if (v.is_float()) return Value(-v.as_number());
            int64_t i = v.is_bool() ? int64_t{v.as_bool()} : v.as_int();
            if (i == INT64_MIN) return Value(-static_cast<double>(i));  // beyond 64 bits: a float
            return Value(-i);
        }
        case ExprKind::Binary:
            return eval_binary(e, scope);
        case ExprKind::Conditional:
            if (eval(*e.a, scope).truthy()) return eval(*e.b, scope);
            return e.c ? eval(*e.c, scope) : Value::undefined();
    }
    return Value::undefined();
}

Value Interpreter::eval_args_call(const Expr& e, const ScopePtr& scope) {
    Value callee = eval(*e.a, scope);
    Args args;
    eval_args(e.args, scope, args);
    return call(callee, args, e.line);
}

namespace {

[[noreturn]] void type_error(size_t line, const std::string& op, const Value& a, const Value& b) {
    if (a.is_undefined() || b.is_undefined()) {
        const Value& u = a.is_undefined() ? a : b;
        template_error(line, "'" + (u.undefined_name().empty() ? "value" : u.undefined_name()) + "' is undefined");
    }
    template_error(line, "unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                             b.type_name() + "'");
}

bool numeric(const Value& v) { return v.is_number() || v.is_bool(); }
int64_t as_int(const Value& v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); }
double as_double(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number(); }
bool both_int(const Value& a, const Value& b) { return (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool()); }

bool contains(const Value& container, const Value& item, size_t line) {
    if (container.is_string()) {
        if (!item.is_string()) template_error(line, "'in <string>' requires string as left operand, not " + item.type_name());
        return container.as_string().find(item.as_string()) != std::string::npos;
    }
    if (container.is_dict() || container.is_namespace()) return container.as_dict().find(item) != nullptr;
    if (container.is_iterator()) {
        for (const Value& v : iterate(container, line)) {
            if (equals(v, item)) return true;
        }
        return false;
    }
    if (container.is_list()) {
        for (const Value& v : container.as_list()) {
            if (equals(v, item)) return true;
        }
        return false;
    }
    if (container.is_undefined()) return false;
    template_error(line, "argument of type '" + container.type_name() + "' is not iterable");
}

}  // namespace

Value Interpreter::eval_binary(const Expr& e, const ScopePtr& scope) {
    const std::string& op = e.name;
    if (op == "and") {
        Value left = eval(*e.a, scope);
        return left.truthy() ? eval(*e.b, scope) : left;
    }
    if (op == "or") {
        Value left = eval(*e.a, scope);
        return left.truthy() ? left : eval(*e.b, scope);
    }
    Value a = eval(*e.a, scope);
    Value b = eval(*e.b, scope);
    size_t line = e.line;
    if (op == "~") return Value(a.str() + b.str());
    if (op == "==") return Value(equals(a, b));
    if (op == "!=") return Value(!equals(a, b));
    if (op == "in") return Value(contains(b, a, line));
    if (op == "not in") return Value(!contains(b, a, line));
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
        if (a.is_undefined() || b.is_undefined()) type_error(line, op, a, b);
        try {
            if (op == "<") return Value(less_than(a, b));
            if (op == ">") return Value(less_than(b, a));
            if (op == "<=") return Value(!less_than(b, a));
            return Value(!less_than(a, b));
        } catch (const Error& err) {
            template_error(line, err.what());
        }
    }
    if (op == "+") {
        if (numeric(a) && numeric(b)) {
            int64_t r = 0;
            if (both_int(a, b) && !__builtin_add_overflow(as_int(a), as_int(b), &r)) return Value(r);
            return Value(as_double(a) + as_double(b));
        }
        if (a.is_string() && b.is_string()) {
            if (a.is_markup() || b.is_markup()) {
                // Markup + str escapes the plain side (markupsafe), and stays Markup.
                Args none;
                std::string left = a.is_markup() ? a.as_string() : apply_filter("escape", a, none, line).as_string();
                std::string right = b.is_markup() ? b.as_string() : apply_filter("escape", b, none, line).as_string();
                return Value::markup(left + right);
            }
            return Value(a.as_string() + b.as_string());
        }
        if (a.is_list() && b.is_list()) {
            List out = a.as_list();
            out.insert(out.end(), b.as_list().begin(), b.as_list().end());
            return Value(std::move(out));
        }
        type_error(line, op, a, b);
    }
    if (op == "*") {
        if (numeric(a) && numeric(b)) {
            int64_t r = 0;
            if (both_int(a, b) && !__builtin_mul_overflow(as_int(a), as_int(b), &r)) return Value(r);
            return Value(as_double(a) * as_double(b));
        }
        const Value* seq = a.is_string() || a.is_list() ? &a : (b.is_string() || b.is_list() ? &b : nullptr);
        const Value* count = seq == &a ? &b : &a;
        if (seq != nullptr && (count->is_int() || count->is_bool())) {
            int64_t n = std::min<int64_t>(as_int(*count), 1 << 20);
            if (seq->is_string()) {
                std::string out;
                for (int64_t i = 0; i < n; ++i) out += seq->as_string();
                return Value(out);
            }
            List out;
            for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq->as_list().begin(), seq->as_list().end());
            return Value(std::move(out));
        }
        type_error(line, op, a, b);
    }
    if (!numeric(a) || !numeric(b)) {
        if (op == "%" && a.is_string()) {
            Args args;
            args.positional.push_back(b);
            return apply_filter("format", a, args, line);
        }
        type_error(line, op, a, b);
    }
    if (op == "-") {
        int64_t r = 0;
        if (both_int(a, b) && !__builtin_sub_overflow(as_int(a), as_int(b), &r)) return Value(r);
        return Value(as_double(a) - as_double(b));
    }
    if (op == "/") {
        if (as_double(b) == 0.0) template_error(line, "division by zero");
        return Value(as_double(a) / as_double(b));
    }
    if (op == "//" || op == "%") {
        if (as_double(b) == 0.0) template_error(line, op == "//" ? "integer division or modulo by zero" : "modulo by zero");
        if (both_int(a, b) && !(as_int(a) == INT64_MIN && as_int(b) == -1)) {
            int64_t x = as_int(a), y = as_int(b);
            int64_t q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) --q;  // Python floors
            return op == "//" ? Value(q) : Value(x - q * y);
        }
        double x = as_double(a), y = as_double(b);
        double q = std::floor(x / y);
        return op == "//" ? Value(q) : Value(x - q * y);
    }
    if (op == "**") {
        if (both_int(a, b) && as_int(b) >= 0) {
            const int64_t base = as_int(a), exponent = as_int(b);
            if (base == 0 || base == 1) return Value(exponent == 0 ? int64_t{1} : base);
            if (base == -1) return Value(int64_t{exponent % 2 == 0 ? 1 : -1});
            int64_t result = 1;
            bool overflow = false;  // |base| >= 2: at most 63 steps before overflow
            for (int64_t i = 0; i < exponent && !overflow; ++i) overflow = __builtin_mul_overflow(result, base, &result);
            if (!overflow) return Value(result);
        }
        return Value(std::pow(as_double(a), as_double(b)));
    }
    template_error(line, "unknown operator '" + op + "'");
}

Template Template::parse(std::string_view source) {
    Template t;
    t.body_ = std::make_shared<const Body>(jinja::parse(lex(source)));
    return t;
}

std::string Template::render(const Dict& context, const RenderOptions& options) const {
    // Namespaces are the one way a template can make a reference cycle ({% set ns.me = ns %});
    // they are emptied when rendering ends, so that nothing leaks.
    std::vector<std::weak_ptr<Dict>> namespaces;
    struct ClearNamespaces {
        std::vector<std::weak_ptr<Dict>>& list;
        ~ClearNamespaces() {
            for (auto& weak : list) {
                if (auto d = weak.lock()) *d = Dict();
            }
        }
    } clear_at_end{namespaces};
    auto globals = std::make_shared<Scope>();
    add_globals(*globals, options, namespaces);
    auto scope = std::make_shared<Scope>(globals);
    for (const auto& [k, v] : context.entries()) scope->set(k.str(), v);
    Interpreter interpreter(options);
    std::string out;
    try {
        interpreter.render(*body_, scope, out);
    } catch (const std::bad_variant_access&) {
        // Safety net: a builtin met a value type it did not check for. Still an error for
        // this template, never a crash of the process.
        throw Error(ErrorCode::Format, "template error: an operation got a value of the wrong type");
    }
    return out;
}

}  // namespace loom::jinja

// The Jinja interpreter: walks the syntax tree with a chain of scopes, producing text.
// Builtin filters, tests, methods and globals are in builtins.cpp; tojson in json.cpp.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "jinja/ast.h"
#include "jinja/template.h"
#include "jinja/value.h"

namespace loom::jinja {

class Scope {
public:
    explicit Scope(std::shared_ptr<Scope> parent = nullptr) : parent_(std::move(parent)) {}
    const Value* lookup(const std::string& name) const;
    void set(const std::string& name, Value value) { vars_[name] = std::move(value); }

private:
    std::shared_ptr<Scope> parent_;
    std::unordered_map<std::string, Value> vars_;
};

using ScopePtr = std::shared_ptr<Scope>;

class Interpreter;

// Raised for template errors; carries the line.
[[noreturn]] void template_error(size_t line, const std::string& what);

using FilterFn = Value (*)(Interpreter&, const Value&, Args&, size_t line);
using TestFn = bool (*)(Interpreter&, const Value&, Args&, size_t line);

FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// A method of a value ("strip" of a string, "items" of a dict), bound to it; Undefined
// when the value has no such attribute. Throws for methods the sandbox forbids.
Value bound_method(const Value& object, const std::string& name, size_t line);
// The global functions (range, dict, namespace, raise_exception, strftime_now).
// Every namespace() made is recorded in namespaces (see Template::render).
void add_globals(Scope& scope, const RenderOptions& options, std::vector<std::weak_ptr<Dict>>& namespaces);

// tojson as Hugging Face defines it: json.dumps(x, ensure_ascii=False, indent=indent,
// separators=separators, sort_keys=sort_keys).
std::string to_json(const Value& value, const Value& indent, bool ensure_ascii, bool sort_keys,
                    std::string_view item_sep, std::string_view key_sep, size_t line);

// Bytes of the UTF-8 character starting at s[i] (1 for invalid bytes), never past the end.
inline size_t utf8_char_bytes(std::string_view s, size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return n < s.size() - i ? n : s.size() - i;
}

// Python-style string helpers on code points.
size_t utf8_length(std::string_view s);
std::string utf8_slice(std::string_view s, int64_t start, int64_t stop, int64_t step);

class Interpreter {
public:
    explicit Interpreter(const RenderOptions& options) : options_(options) {}

    void render(const Body& body, const ScopePtr& scope, std::string& out);
    Value eval(const Expr& e, const ScopePtr& scope);

    // Calls a callable value (macro or builtin).
    Value call(const Value& callee, Args& args, size_t line);
    // Applies a filter or test by name (for map, select, selectattr ...).
    Value apply_filter(const std::string& name, const Value& operand, Args& args, size_t line);
    bool apply_test(const std::string& name, const Value& operand, Args& args, size_t line);
    // obj.name and obj[key] with jinja2's lookup order.
    Value get_attr(const Value& object, const std::string& name, size_t line);
    Value get_item(const Value& object, const Value& key, size_t line);

    const RenderOptions& options() const { return options_; }

private:
    enum class Flow { Normal, Break, Continue };
    Flow exec(const Body& body, const ScopePtr& scope, std::string& out);
    Flow exec_node(const Node& node, const ScopePtr& scope, std::string& out);
    void exec_for(const Node& node, const ScopePtr& scope, std::string& out);
    void exec_set(const Node& node, const ScopePtr& scope, std::string& out);
    Value define_macro(const Node& node, const ScopePtr& scope);
    Value eval_binary(const Expr& e, const ScopePtr& scope);
    Value eval_args_call(const Expr& e, const ScopePtr& scope);
    void eval_args(const CallArgs& in, const ScopePtr& scope, Args& out);

    void step(size_t line, const std::string& out);

    const RenderOptions& options_;
    int depth_ = 0;       // macro recursion guard
    uint64_t steps_ = 0;  // statements and loop iterations so far
};

// Iterates a value as Python would (lists, dict keys, string characters); undefined is
// empty. Throws for values that are not iterable.
List iterate(const Value& v, size_t line);

}  // namespace loom::jinja

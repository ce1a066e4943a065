// Values of the Jinja interpreter, with Python's semantics as jinja2 has them: None,
// undefined, bool, int, float, str, list and dict (shared, mutable: `list.append` in a
// template is seen through every reference), callables (macros and builtins) and
// namespaces. Dicts keep insertion order, as Python's do.
// Not here: parsing or rendering (parser.h, interpreter.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace loom::jinja {

class Value;
using List = std::vector<Value>;

// An insertion-ordered map. Keys are values as in Python (JSON data gives strings;
// dict literals in templates may use ints). Linear lookup: template dicts are small.
class Dict {
public:
    // String keys (exact overloads, so that no call is ambiguous with Value's).
    const Value* find(std::string_view key) const;
    const Value* find(const std::string& key) const { return find(std::string_view(key)); }
    const Value* find(const char* key) const { return find(std::string_view(key)); }
    const Value* find(const Value& key) const;
    void set(std::string key, Value value);
    void set(const char* key, Value value);
    void set(Value key, Value value);
    size_t size() const;  // out of line: Value is incomplete here
    const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

private:
    std::vector<std::pair<Value, Value>> entries_;
};

struct Args;
using Builtin = std::function<Value(Args&)>;

// A callable: a builtin function or a macro (the interpreter gives it a body).
struct Callable {
    std::string name;
    Builtin call;
};

struct Undefined {
    std::string name;  // what was looked up, for error messages
};

struct None {};

// A one-shot iterator (a Python generator or reverse iterator, as jinja2's map, select,
// items, ... return): iterable once, truthy, but without len(), indexing or JSON form.
struct IteratorState {
    std::vector<Value> items;
    bool consumed = false;
    std::string type;  // "generator", "list_reverseiterator"
};

class Value {
public:
    using ListPtr = std::shared_ptr<List>;
    using DictPtr = std::shared_ptr<Dict>;
    using CallablePtr = std::shared_ptr<Callable>;
    // A namespace() object: a dict whose attributes can be assigned with {% set ns.x %}.
    struct Namespace {
        DictPtr dict;
    };
    struct Iterator {
        std::shared_ptr<IteratorState> state;
    };
    using Storage = std::variant<Undefined, None, bool, int64_t, double, std::string, ListPtr,
                                 DictPtr, CallablePtr, Namespace, Iterator>;

    Value() : storage_(Undefined{}) {}
    Value(None) : storage_(None{}) {}
    Value(bool b) : storage_(b) {}
    Value(int v) : storage_(static_cast<int64_t>(v)) {}
    Value(int64_t v) : storage_(v) {}
    Value(double v) : storage_(v) {}
    Value(std::string s) : storage_(std::move(s)) {}
    Value(std::string_view s) : storage_(std::string(s)) {}
    Value(const char* s) : storage_(std::string(s)) {}
    Value(List list) : storage_(std::make_shared<List>(std::move(list))) {}
    Value(Dict dict) : storage_(std::make_shared<Dict>(std::move(dict))) {}
    Value(ListPtr list) : storage_(std::move(list)) {}
    Value(DictPtr dict) : storage_(std::move(dict)) {}
    Value(CallablePtr c) : storage_(std::move(c)) {}
    Value(Namespace ns) : storage_(std::move(ns)) {}
    Value(Iterator it) : storage_(std::move(it)) {}

    // A markupsafe.Markup string (from |safe or |escape): `+` with a plain string
    // HTML-escapes the plain one, as jinja2 does.
    static Value markup(std::string s) {
        Value v(std::move(s));
        v.markup_ = true;
        return v;
    }
    // A Python tuple: a list that prints as (a, b) and differs from a list in ==.
    static Value tuple(std::vector<Value> items) {
        Value v(std::move(items));
        v.tuple_ = true;
        return v;
    }
    static Value iterator(std::vector<Value> items, std::string type = "generator") {
        auto state = std::make_shared<IteratorState>();
        state->items = std::move(items);
        state->type = std::move(type);
        return Value(Iterator{std::move(state)});
    }

    static Value undefined(std::string name = {}) {
        Value v;
        v.storage_ = Undefined{std::move(name)};
        return v;
    }

    const Storage& storage() const { return storage_; }

    bool is_undefined() const { return std::holds_alternative<Undefined>(storage_); }
    bool is_none() const { return std::holds_alternative<None>(storage_); }
    bool is_bool() const { return std::holds_alternative<bool>(storage_); }
    bool is_int() const { return std::holds_alternative<int64_t>(storage_); }
    bool is_float() const { return std::holds_alternative<double>(storage_); }
    bool is_number() const { return is_int() || is_float(); }
    bool is_string() const { return std::holds_alternative<std::string>(storage_); }
    bool is_list() const { return std::holds_alternative<ListPtr>(storage_); }
    bool is_dict() const { return std::holds_alternative<DictPtr>(storage_); }
    bool is_callable() const { return std::holds_alternative<CallablePtr>(storage_); }
    bool is_namespace() const { return std::holds_alternative<Namespace>(storage_); }
    bool is_iterator() const { return std::holds_alternative<Iterator>(storage_); }
    bool is_markup() const { return markup_ && is_string(); }
    bool is_tuple() const { return tuple_ && is_list(); }
    IteratorState& as_iterator() const { return *std::get<Iterator>(storage_).state; }

    bool as_bool() const { return std::get<bool>(storage_); }
    int64_t as_int() const { return std::get<int64_t>(storage_); }
    double as_number() const { return is_int() ? static_cast<double>(as_int()) : std::get<double>(storage_); }
    const std::string& as_string() const { return std::get<std::string>(storage_); }
    List& as_list() const { return *std::get<ListPtr>(storage_); }
    Dict& as_dict() const;  // dicts and namespaces
    const Callable& as_callable() const { return *std::get<CallablePtr>(storage_); }
    const std::string& undefined_name() const { return std::get<Undefined>(storage_).name; }

    // Python truthiness.
    bool truthy() const;
    // str(x) as jinja2 prints it ({{ x }}): None -> "None", True -> "True", lists as repr.
    std::string str() const;
    // repr(x): strings quoted as Python does.
    std::string repr() const;
    // "str", "int", "list", "dict", ... for error messages.
    std::string type_name() const;

private:
    Storage storage_;
    bool markup_ = false;
    bool tuple_ = false;
};

// Python == (1 == 1.0, [1] == [1], dicts by content; undefined equals only undefined).
bool equals(const Value& a, const Value& b);
// Python < for numbers, strings and lists; throws loom::Error for other pairs.
bool less_than(const Value& a, const Value& b);

// Python's repr of a float ("1.0", "1e-05", "inf").
std::string float_repr(double v);

// Arguments of a call: positional and keyword, in order.
struct Args {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
    std::string_view function;  // for error messages

    // The i-th positional argument, or the keyword argument named name, or fallback.
    Value get(size_t i, std::string_view name, Value fallback = Value()) const;
    bool has(size_t i, std::string_view name) const;
};

}  // namespace loom::jinja

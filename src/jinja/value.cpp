// Jinja values: Python truthiness, str/repr, equality and ordering.
#include "jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace loom::jinja {

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : entries_) {
        if (k.is_string() && k.as_string() == key) return &v;
    }
    return nullptr;
}

const Value* Dict::find(const Value& key) const {
    for (const auto& [k, v] : entries_) {
        if (equals(k, key)) return &v;
    }
    return nullptr;
}

size_t Dict::size() const { return entries_.size(); }

void Dict::set(std::string key, Value value) { set(Value(std::move(key)), std::move(value)); }
void Dict::set(const char* key, Value value) { set(Value(std::string(key)), std::move(value)); }

void Dict::set(Value key, Value value) {
    for (auto& [k, v] : entries_) {
        if (equals(k, key)) {
            v = std::move(value);
            return;
        }
    }
    entries_.emplace_back(std::move(key), std::move(value));
}

Dict& Value::as_dict() const {
    if (const auto* ns = std::get_if<Namespace>(&storage_)) return *ns->dict;
    return *std::get<DictPtr>(storage_);
}

bool Value::truthy() const {
    return std::visit(
        [](const auto& v) -> bool {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, Undefined> || std::is_same_v<T, None>) {
                return false;
            } else if constexpr (std::is_same_v<T, bool>) {
                return v;
            } else if constexpr (std::is_same_v<T, int64_t>) {
                return v != 0;
            } else if constexpr (std::is_same_v<T, double>) {
                return v != 0.0;
            } else if constexpr (std::is_same_v<T, std::string>) {
                return !v.empty();
            } else if constexpr (std::is_same_v<T, ListPtr>) {
                return !v->empty();
            } else if constexpr (std::is_same_v<T, DictPtr>) {
                return v->size() != 0;
            } else {
                return true;
            }
        },
        storage_);
}

std::string float_repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, end);
    // Python switches to exponent form below 1e-4 and from 1e16; to_chars' shortest form
    // may choose differently, so rebuild from the digits when needed.
    double mag = std::fabs(v);
    if (mag != 0.0 && (mag < 1e-4 || mag >= 1e16)) {
        std::snprintf(buf, sizeof buf, "%.17e", v);
        // Shortest round-trip digits in scientific form.
        for (int precision = 0; precision <= 17; ++precision) {
            std::snprintf(buf, sizeof buf, "%.*e", precision, v);
            if (std::strtod(buf, nullptr) == v) break;
        }
        std::string sci(buf);
        size_t e = sci.find('e');
        std::string mantissa = sci.substr(0, e);
        int exponent = std::atoi(sci.c_str() + e + 1);
        char exp_buf[16];
        std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        return mantissa + exp_buf;
    }
    if (s.find_first_of(".e") == std::string::npos) {
        s += ".0";
    } else if (s.find('e') != std::string::npos) {
        // to_chars chose exponent form for a value Python prints positionally.
        std::snprintf(buf, sizeof buf, "%.17g", v);
        for (int precision = 1; precision <= 17; ++precision) {
            std::snprintf(buf, sizeof buf, "%.*f", precision, v);
            if (std::strtod(buf, nullptr) == v) break;
        }
        s = buf;
    }
    return s;
}

namespace {

std::string string_repr(const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos;
    bool has_double = s.find('"') != std::string::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c == static_cast<unsigned char>(quote)) {
                    out += '\\';
                    out += static_cast<char>(c);
                } else if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += quote;
    return out;
}

}  // namespace

std::string Value::str() const {
    if (const auto* s = std::get_if<std::string>(&storage_)) return *s;
    if (is_undefined()) return "";
    return repr();
}

std::string Value::repr() const {
    return std::visit(
        [this](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, Undefined>) {
                return "";
            } else if constexpr (std::is_same_v<T, None>) {
                return "None";
            } else if constexpr (std::is_same_v<T, bool>) {
                return v ? "True" : "False";
            } else if constexpr (std::is_same_v<T, int64_t>) {
                return std::to_string(v);
            } else if constexpr (std::is_same_v<T, double>) {
                return float_repr(v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                return string_repr(v);
            } else if constexpr (std::is_same_v<T, ListPtr>) {
                std::string out = tuple_ ? "(" : "[";
                for (size_t i = 0; i < v->size(); ++i) out += (i ? ", " : "") + (*v)[i].repr();
                if (tuple_) return out + (v->size() == 1 ? ",)" : ")");
                return out + "]";
            } else if constexpr (std::is_same_v<T, DictPtr> || std::is_same_v<T, Namespace>) {
                const Dict& d = as_dict();
                std::string out = std::is_same_v<T, Namespace> ? "<Namespace {" : "{";
                bool first = true;
                for (const auto& [k, item] : d.entries()) {
                    out += (first ? "" : ", ") + k.repr() + ": " + item.repr();
                    first = false;
                }
                return out + (std::is_same_v<T, Namespace> ? "}>" : "}");
            } else if constexpr (std::is_same_v<T, Iterator>) {
                return "<" + v.state->type + " object>";
            } else {
                return "<function " + v->name + ">";
            }
        },
        storage_);
}

std::string Value::type_name() const {
    static constexpr const char* names[] = {"undefined", "NoneType", "bool", "int", "float", "str",
                                            "list", "dict", "function", "Namespace", ""};
    if (is_iterator()) return as_iterator().type;
    return names[storage_.index()];
}

bool equals(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
        return a.as_number() == b.as_number();
    }
    // Python: True == 1.
    if (a.is_bool() && b.is_number()) return (a.as_bool() ? 1.0 : 0.0) == b.as_number();
    if (b.is_bool() && a.is_number()) return (b.as_bool() ? 1.0 : 0.0) == a.as_number();
    if (a.storage().index() != b.storage().index()) return false;
    if (a.is_undefined() || a.is_none()) return true;
    if (a.is_bool()) return a.as_bool() == b.as_bool();
    if (a.is_string()) return a.as_string() == b.as_string();
    if (a.is_list()) {
        if (a.is_tuple() != b.is_tuple()) return false;  // (1,) != [1] in Python
        const List& x = a.as_list();
        const List& y = b.as_list();
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i) {
            if (!equals(x[i], y[i])) return false;
        }
        return true;
    }
    if (a.is_dict() || a.is_namespace()) {
        const Dict& x = a.as_dict();
        const Dict& y = b.as_dict();
        if (x.size() != y.size()) return false;
        for (const auto& [k, v] : x.entries()) {
            const Value* other = y.find(k);
            if (other == nullptr || !equals(v, *other)) return false;
        }
        return true;
    }
    if (a.is_iterator()) return &a.as_iterator() == &b.as_iterator();
    return &a.as_callable() == &b.as_callable();
}

bool less_than(const Value& a, const Value& b) {
    auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
    auto number = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number(); };
    if (numeric(a) && numeric(b)) {
        if (a.is_int() && b.is_int()) return a.as_int() < b.as_int();
        return number(a) < number(b);
    }
    if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
    if (a.is_list() && b.is_list()) {
        const List& x = a.as_list();
        const List& y = b.as_list();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (less_than(x[i], y[i])) return true;
            if (less_than(y[i], x[i])) return false;
        }
        return x.size() < y.size();
    }
    throw Error(ErrorCode::Format, "'<' not supported between instances of '" + a.type_name() +
                                                "' and '" + b.type_name() + "'");
}

Value Args::get(size_t i, std::string_view name, Value fallback) const {
    if (i < positional.size()) return positional[i];
    for (const auto& [k, v] : keyword) {
        if (k == name) return v;
    }
    return fallback;
}

bool Args::has(size_t i, std::string_view name) const {
    if (i < positional.size()) return true;
    for (const auto& [k, v] : keyword) {
        if (k == name) return true;
    }
    return false;
}

}  // namespace loom::jinja

// Builtin filters, tests, methods and globals of the Jinja interpreter: the jinja2
// builtins real chat templates use, with Python's semantics, plus Hugging Face's
// tojson, raise_exception and strftime_now. The sandbox's rule is kept: methods that
// modify a list or dict (append, pop, update, ...) are refused.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>

#include <utf8proc.h>

#include "core/error.h"
#include "jinja/interpreter.h"

namespace loom::jinja {
namespace {

bool is_py_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f; }

std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
    auto drop = [&](unsigned char c) {
        if (chars.is_string()) return chars.as_string().find(static_cast<char>(c)) != std::string::npos;
        return is_py_space(c);
    };
    size_t b = 0, e = s.size();
    if (left) while (b < e && drop(static_cast<unsigned char>(s[b]))) ++b;
    if (right) while (e > b && drop(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

// Case mapping per code point (utf8proc's simple mappings; Python's full mappings differ
// only for a few letters such as ß -> SS).
std::string map_case(const std::string& s, bool upper) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += static_cast<char>(upper ? std::toupper(c) : std::tolower(c));
            ++i;
            continue;
        }
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
        if (n <= 0) {  // invalid byte: kept as is
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        utf8proc_int32_t mapped = upper ? utf8proc_toupper(cp) : utf8proc_tolower(cp);
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t m = utf8proc_encode_char(mapped, buf);
        out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(m));
        i += static_cast<size_t>(n);
    }
    return out;
}

std::string to_upper(const std::string& s) { return map_case(s, true); }
std::string to_lower(const std::string& s) { return map_case(s, false); }

// Python str.title: the first cased letter after an uncased character goes upper, the
// rest lower. Works per code point.
std::string title_case(const std::string& s) {
    std::string out;
    bool prev_cased = false;
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_char_bytes(s, i);
        std::string ch = s.substr(i, n);
        std::string up = to_upper(ch);
        std::string low = to_lower(ch);
        bool cased = up != low;
        out += cased ? (prev_cased ? low : up) : ch;
        prev_cased = cased;
        i += n;
    }
    return out;
}

std::string capitalize(const std::string& s) {
    std::string out = to_lower(s);
    if (out.empty()) return out;
    size_t n = utf8_char_bytes(out, 0);
    return to_upper(out.substr(0, n)) + out.substr(n);
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
    if (from.empty()) {
        // Python inserts `to` between every character (and at both ends).
        std::string out = to;
        size_t n = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            out += s[i];
            if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 &&
                (i + 1 == s.size() || (static_cast<unsigned char>(s[i + 1]) & 0xC0) != 0x80)) {
                if (count >= 0 && ++n >= static_cast<size_t>(count)) {
                    out += s.substr(i + 1);
                    return out;
                }
                out += to;
            }
        }
        return out;
    }
    std::string out;
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out += to;
        pos = hit + from.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    return out;
}

List split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right) {
    List parts;
    if (sep.is_string()) {
        const std::string& d = sep.as_string();
        if (d.empty()) template_error(0, "empty separator");
        if (!from_right) {
            size_t pos = 0;
            int64_t n = 0;
            while (maxsplit < 0 || n < maxsplit) {
                size_t hit = s.find(d, pos);
                if (hit == std::string::npos) break;
                parts.emplace_back(s.substr(pos, hit - pos));
                pos = hit + d.size();
                ++n;
            }
            parts.emplace_back(s.substr(pos));
        } else {
            size_t end = s.size();
            int64_t n = 0;
            List reversed;
            while (maxsplit < 0 || n < maxsplit) {
                if (end < d.size()) break;
                size_t hit = s.rfind(d, end - d.size());
                if (hit == std::string::npos) break;
                reversed.emplace_back(s.substr(hit + d.size(), end - hit - d.size()));
                end = hit;
                ++n;
            }
            reversed.emplace_back(s.substr(0, end));
            parts.assign(reversed.rbegin(), reversed.rend());
        }
        return parts;
    }
    // Whitespace runs, empty strings dropped.
    size_t i = 0;
    int64_t n = 0;
    while (i < s.size()) {
        while (i < s.size() && is_py_space(static_cast<unsigned char>(s[i]))) ++i;
        if (i >= s.size()) break;
        if (maxsplit >= 0 && n >= maxsplit) {
            std::string rest = s.substr(i);
            while (!rest.empty() && is_py_space(static_cast<unsigned char>(rest.back()))) rest.pop_back();
            parts.emplace_back(rest);
            break;
        }
        size_t j = i;
        while (j < s.size() && !is_py_space(static_cast<unsigned char>(s[j]))) ++j;
        parts.emplace_back(s.substr(i, j - i));
        ++n;
        i = j;
    }
    return parts;
}

// Python str.format with {} / {0} / {name} fields (conversion and spec ignored but !r).
std::string py_format(const std::string& fmt, const Args& args, size_t line) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '{') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
                out += '{';
                ++i;
                continue;
            }
            size_t close = fmt.find('}', i);
            if (close == std::string::npos) template_error(line, "Single '{' encountered in format string");
            std::string field = fmt.substr(i + 1, close - i - 1);
            bool as_repr = false;
            if (size_t bang = field.find('!'); bang != std::string::npos) {
                as_repr = field.substr(bang + 1, 1) == "r";
                field = field.substr(0, bang);
            }
            if (size_t colon = field.find(':'); colon != std::string::npos) field = field.substr(0, colon);
            Value v;
            if (field.empty()) {
                v = args.get(auto_index++, "\x01");
            } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
                v = args.get(static_cast<size_t>(std::stoul(field)), "\x01");
            } else {
                v = args.get(SIZE_MAX, field);
            }
            if (v.is_undefined()) template_error(line, "format field '" + field + "' has no value");
            out += as_repr ? v.repr() : v.str();
            i = close;
        } else if (c == '}') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
            out += '}';
        } else {
            out += c;
        }
    }
    return out;
}

// A number argument (bools count as 0/1); anything else is a template error.
double number_of(const Value& v, size_t line, std::string_view what) {
    if (v.is_number()) return v.as_number();
    if (v.is_bool()) return v.as_bool() ? 1.0 : 0.0;
    template_error(line, std::string(what) + ": expected a number, got " + v.type_name());
}

// printf-style "%s" % value (the format filter and the % operator).
std::string percent_format(const std::string& fmt, const List& values, size_t line) {
    std::string out;
    size_t next = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (i + 1 >= fmt.size()) template_error(line, "incomplete format");
        char spec = fmt[++i];
        if (spec == '%') {
            out += '%';
            continue;
        }
        if (next >= values.size()) template_error(line, "not enough arguments for format string");
        const Value& v = values[next++];
        char buf[64];
        switch (spec) {
            case 's': out += v.str(); break;
            case 'r': out += v.repr(); break;
            case 'd':
            case 'i':
                std::snprintf(buf, sizeof buf, "%lld",
                              static_cast<long long>(v.is_int() ? v.as_int() : static_cast<int64_t>(number_of(v, line, "%d format"))));
                out += buf;
                break;
            case 'f':
                std::snprintf(buf, sizeof buf, "%f", number_of(v, line, "%f format"));
                out += buf;
                break;
            default:
                template_error(line, std::string("unsupported format character '") + spec + "'");
        }
    }
    return out;
}

int64_t to_int(const Value& v, int64_t fallback) {
    if (v.is_int()) return v.as_int();
    if (v.is_bool()) return v.as_bool();
    if (v.is_float()) return static_cast<int64_t>(v.as_number());
    if (v.is_string()) {
        try {
            size_t used = 0;
            std::string s = strip(v.as_string(), Value(), true, true);
            int64_t r = std::stoll(s, &used);
            if (used == s.size()) return r;
            return static_cast<int64_t>(std::stod(s));
        } catch (...) {
            return fallback;
        }
    }
    return fallback;
}

size_t length_of(const Value& v, size_t line) {
    if (v.is_iterator()) template_error(line, "object of type '" + v.type_name() + "' has no len()");
    if (v.is_string()) return utf8_length(v.as_string());
    if (v.is_list()) return v.as_list().size();
    if (v.is_dict() || v.is_namespace()) return v.as_dict().size();
    if (v.is_undefined()) return 0;
    template_error(line, "object of type '" + v.type_name() + "' has no len()");
}

Value builtin(std::string name, Builtin fn) {
    auto c = std::make_shared<Callable>();
    c->name = std::move(name);
    c->call = std::move(fn);
    return Value(c);
}

// ---- filters ----------------------------------------------------------------------

Value f_tojson(Interpreter&, const Value& v, Args& a, size_t line) {
    // HF: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
    bool ensure_ascii = a.get(0, "ensure_ascii", Value(false)).truthy();
    Value indent = a.get(1, "indent", Value(None{}));
    bool sort_keys = a.get(3, "sort_keys", Value(false)).truthy();
    std::string item_sep = (indent.is_int() || indent.is_string()) ? "," : ", ";
    std::string key_sep = ": ";
    if (Value seps = a.get(2, "separators"); seps.is_list() && seps.as_list().size() == 2) {
        item_sep = seps.as_list()[0].str();
        key_sep = seps.as_list()[1].str();
    }
    return Value(to_json(v, indent, ensure_ascii, sort_keys, item_sep, key_sep, line));
}

Value f_length(Interpreter&, const Value& v, Args&, size_t line) { return Value(static_cast<int64_t>(length_of(v, line))); }

Value f_trim(Interpreter&, const Value& v, Args& a, size_t) { return Value(strip(v.str(), a.get(0, "chars"), true, true)); }
Value f_string(Interpreter&, const Value& v, Args&, size_t) { return Value(v.str()); }
Value f_safe(Interpreter&, const Value& v, Args&, size_t) { return v.is_markup() ? v : Value::markup(v.str()); }
Value f_lower(Interpreter&, const Value& v, Args&, size_t) { return Value(to_lower(v.str())); }
Value f_upper(Interpreter&, const Value& v, Args&, size_t) { return Value(to_upper(v.str())); }
Value f_title(Interpreter&, const Value& v, Args&, size_t) { return Value(title_case(v.str())); }
Value f_capitalize(Interpreter&, const Value& v, Args&, size_t) { return Value(capitalize(v.str())); }

Value f_default(Interpreter&, const Value& v, Args& a, size_t) {
    bool boolean = a.get(1, "boolean", Value(false)).truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value(""));
    return v;
}

Value f_join(Interpreter& in, const Value& v, Args& a, size_t line) {
    std::string sep = a.get(0, "d", Value("")).str();
    Value attribute = a.get(1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v, line)) {
        if (!first) out += sep;
        first = false;
        out += attribute.is_undefined() ? item.str() : in.get_attr(item, attribute.str(), line).str();
    }
    return Value(out);
}

Value f_items(Interpreter&, const Value& v, Args&, size_t line) {
    List out;
    if (v.is_undefined()) return Value::iterator(std::move(out));
    if (!v.is_dict()) template_error(line, "Can only get item pairs from a mapping.");
    for (const auto& [k, item] : v.as_dict().entries()) out.push_back(Value::tuple(List{k, item}));
    return Value::iterator(std::move(out));
}

Value f_dictsort(Interpreter&, const Value& v, Args& a, size_t line) {
    if (!v.is_dict()) template_error(line, "dictsort needs a mapping, got " + v.type_name());
    bool case_sensitive = a.get(0, "case_sensitive", Value(false)).truthy();
    bool by_value = a.get(1, "by", Value("key")).str() == "value";
    bool reverse = a.get(2, "reverse", Value(false)).truthy();
    List out;
    for (const auto& [k, item] : v.as_dict().entries()) out.push_back(Value::tuple(List{k, item}));
    auto key = [&](const Value& pair) {
        Value k = pair.as_list()[by_value ? 1 : 0];
        return (!case_sensitive && k.is_string()) ? Value(to_lower(k.as_string())) : k;
    };
    std::stable_sort(out.begin(), out.end(), [&](const Value& x, const Value& y) {
        return reverse ? less_than(key(y), key(x)) : less_than(key(x), key(y));
    });
    return Value(std::move(out));
}

Value f_list(Interpreter&, const Value& v, Args&, size_t line) { return Value(iterate(v, line)); }

Value f_first(Interpreter&, const Value& v, Args&, size_t line) {
    List items = iterate(v, line);
    return items.empty() ? Value::undefined("first") : items.front();
}

Value f_last(Interpreter&, const Value& v, Args&, size_t line) {
    if (v.is_iterator()) template_error(line, "'" + v.type_name() + "' object is not reversible");
    List items = iterate(v, line);
    return items.empty() ? Value::undefined("last") : items.back();
}

Value f_reverse(Interpreter&, const Value& v, Args&, size_t line) {
    if (v.is_string()) return Value(utf8_slice(v.as_string(), static_cast<int64_t>(utf8_length(v.as_string())) - 1, -1, -1));
    bool lazy = v.is_list();  // reversed(list) is an iterator; reversing anything else gives a list
    List items = iterate(v, line);
    std::reverse(items.begin(), items.end());
    return lazy ? Value::iterator(std::move(items), "list_reverseiterator") : Value(std::move(items));
}

Value f_replace(Interpreter&, const Value& v, Args& a, size_t) {
    Value count = a.get(2, "count", Value(None{}));
    return Value(replace_all(v.str(), a.get(0, "old").str(), a.get(1, "new").str(),
                             count.is_int() ? count.as_int() : -1));
}

Value f_indent(Interpreter&, const Value& v, Args& a, size_t) {
    Value width = a.get(0, "width", Value(int64_t{4}));
    std::string pad = width.is_string() ? width.as_string() : std::string(static_cast<size_t>(std::max<int64_t>(0, to_int(width, 4))), ' ');
    bool first = a.get(1, "first", Value(false)).truthy();
    bool blank = a.get(2, "blank", Value(false)).truthy();
    std::string s = v.str();
    std::string out;
    size_t start = 0;
    bool first_line = true;
    while (start <= s.size()) {
        size_t nl = s.find('\n', start);
        std::string line_text = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        bool indent_it = first_line ? first : (blank || !line_text.empty());
        if (indent_it && !(first_line && line_text.empty() && !blank && nl == std::string::npos && s.empty())) out += pad;
        out += line_text;
        if (nl == std::string::npos) break;
        out += '\n';
        start = nl + 1;
        first_line = false;
    }
    return Value(out);
}

Value f_int(Interpreter&, const Value& v, Args& a, size_t) { return Value(to_int(v, to_int(a.get(0, "default", Value(int64_t{0})), 0))); }

Value f_float(Interpreter&, const Value& v, Args& a, size_t) {
    if (v.is_number()) return Value(v.as_number());
    if (v.is_bool()) return Value(v.as_bool() ? 1.0 : 0.0);
    if (v.is_string()) {
        try {
            return Value(std::stod(v.as_string()));
        } catch (...) {
        }
    }
    Value d = a.get(0, "default", Value(0.0));
    return Value(d.is_number() ? d.as_number() : 0.0);
}

Value f_abs(Interpreter&, const Value& v, Args&, size_t line) {
    if (v.is_int()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    if (v.is_float()) return Value(std::fabs(v.as_number()));
    template_error(line, "bad operand type for abs(): '" + v.type_name() + "'");
}

Value f_round(Interpreter&, const Value& v, Args& a, size_t line) {
    int64_t precision = to_int(a.get(0, "precision", Value(int64_t{0})), 0);
    std::string method = a.get(1, "method", Value("common")).str();
    if (method == "common") {
        // Python's round(): correctly rounded on the exact binary value, ties to even;
        // printf does exactly that.
        char buf[512];
        std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::clamp<int64_t>(precision, 0, 300)),
                      number_of(v, line, "round"));
        return Value(std::strtod(buf, nullptr));
    }
    double scale = std::pow(10.0, static_cast<double>(precision));
    double x = number_of(v, line, "round") * scale;
    return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_sum(Interpreter& in, const Value& v, Args& a, size_t line) {
    Value attribute = a.get(0, "attribute");
    Value total = a.get(1, "start", Value(int64_t{0}));
    for (const Value& item : iterate(v, line)) {
        Value x = attribute.is_undefined() ? item : in.get_attr(item, attribute.str(), line);
        int64_t sum = 0;
        if (total.is_int() && x.is_int() && !__builtin_add_overflow(total.as_int(), x.as_int(), &sum)) {
            total = Value(sum);
        } else {
            total = Value(number_of(total, line, "sum") + number_of(x, line, "sum"));
        }
    }
    return total;
}

Value min_max(const Value& v, size_t line, bool want_max) {
    List items = iterate(v, line);
    if (items.empty()) return Value::undefined(want_max ? "max" : "min");
    Value best = items[0];
    for (const Value& item : items) {
        if (want_max ? less_than(best, item) : less_than(item, best)) best = item;
    }
    return best;
}
Value f_min(Interpreter&, const Value& v, Args&, size_t line) { return min_max(v, line, false); }
Value f_max(Interpreter&, const Value& v, Args&, size_t line) { return min_max(v, line, true); }

Value f_unique(Interpreter&, const Value& v, Args&, size_t line) {
    List out;
    for (const Value& item : iterate(v, line)) {
        bool seen = false;
        for (const Value& o : out) seen = seen || equals(o, item);
        if (!seen) out.push_back(item);
    }
    return Value::iterator(std::move(out));
}

Value f_sort(Interpreter& in, const Value& v, Args& a, size_t line) {
    bool reverse = a.get(0, "reverse", Value(false)).truthy();
    bool case_sensitive = a.get(1, "case_sensitive", Value(false)).truthy();
    Value attribute = a.get(2, "attribute");
    List items = iterate(v, line);
    auto key = [&](const Value& item) {
        Value k = attribute.is_undefined() ? item : in.get_attr(item, attribute.str(), line);
        return (!case_sensitive && k.is_string()) ? Value(to_lower(k.as_string())) : k;
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        return reverse ? less_than(key(y), key(x)) : less_than(key(x), key(y));
    });
    return Value(std::move(items));
}

// select / reject / selectattr / rejectattr.
Value select_impl(Interpreter& in, const Value& v, Args& a, size_t line, bool by_attr, bool keep) {
    size_t first_arg = by_attr ? 1 : 0;
    std::string attribute = by_attr ? a.get(0, "attribute").str() : std::string();
    bool has_test = a.positional.size() > first_arg;
    std::string test = has_test ? a.positional[first_arg].str() : std::string();
    List out;
    if (!v.truthy()) return Value::iterator(std::move(out));  // jinja2: `if value:` first
    for (const Value& item : iterate(v, line)) {
        Value x = by_attr ? in.get_attr(item, attribute, line) : item;
        bool ok;
        if (!has_test) {
            ok = x.truthy();
        } else {
            Args targs;
            targs.positional.assign(a.positional.begin() + static_cast<long>(first_arg) + 1, a.positional.end());
            ok = in.apply_test(test, x, targs, line);
        }
        if (ok == keep) out.push_back(item);
    }
    return Value::iterator(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, Args& a, size_t line) { return select_impl(in, v, a, line, false, true); }
Value f_reject(Interpreter& in, const Value& v, Args& a, size_t line) { return select_impl(in, v, a, line, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, Args& a, size_t line) { return select_impl(in, v, a, line, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, Args& a, size_t line) { return select_impl(in, v, a, line, true, false); }

Value f_map(Interpreter& in, const Value& v, Args& a, size_t line) {
    List out;
    Value attribute = a.get(SIZE_MAX, "attribute");
    if (!v.truthy()) return Value::iterator(std::move(out));  // jinja2: `if value:` first
    for (const Value& item : iterate(v, line)) {
        if (!attribute.is_undefined()) {
            Value x = in.get_attr(item, attribute.str(), line);
            if (x.is_undefined() && a.has(SIZE_MAX, "default")) x = a.get(SIZE_MAX, "default");
            out.push_back(x);
        } else {
            if (a.positional.empty()) template_error(line, "map needs a filter name or attribute=");
            Args fargs;
            fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
            fargs.keyword = a.keyword;
            out.push_back(in.apply_filter(a.positional[0].str(), item, fargs, line));
        }
    }
    return Value::iterator(std::move(out));
}

Value f_attr(Interpreter& in, const Value& v, Args& a, size_t line) { return in.get_attr(v, a.get(0, "name").str(), line); }

Value f_wordcount(Interpreter&, const Value& v, Args&, size_t) {
    return Value(static_cast<int64_t>(split(v.str(), Value(), -1, false).size()));
}

Value f_format(Interpreter&, const Value& v, Args& a, size_t line) {
    List values = a.positional;
    if (values.size() == 1 && values[0].is_list()) values = values[0].as_list();
    return Value(percent_format(v.str(), values, line));
}

Value f_escape(Interpreter&, const Value& v, Args&, size_t) {
    if (v.is_markup()) return v;
    std::string out;
    for (char c : v.str()) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return Value::markup(out);
}

Value f_batch(Interpreter&, const Value& v, Args& a, size_t line) {
    int64_t size = std::max<int64_t>(1, to_int(a.get(0, "linecount"), 1));
    List out;
    List current;
    for (const Value& item : iterate(v, line)) {
        current.push_back(item);
        if (static_cast<int64_t>(current.size()) == size) {
            out.emplace_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) {
        Value fill = a.get(1, "fill_with", Value(None{}));
        if (!fill.is_none()) while (static_cast<int64_t>(current.size()) < size) current.push_back(fill);
        out.emplace_back(std::move(current));
    }
    return Value::iterator(std::move(out));
}

Value f_center(Interpreter&, const Value& v, Args& a, size_t) {
    std::string s = v.str();
    auto width = static_cast<size_t>(std::max<int64_t>(0, to_int(a.get(0, "width", Value(int64_t{80})), 80)));
    size_t len = utf8_length(s);
    if (width <= len) return Value(s);
    size_t total = width - len;
    size_t left = total / 2 + (total & width & 1);
    return Value(std::string(left, ' ') + s + std::string(total - left, ' '));
}

Value f_truncate(Interpreter&, const Value& v, Args& a, size_t) {
    std::string s = v.str();
    auto length = static_cast<size_t>(std::max<int64_t>(0, to_int(a.get(0, "length", Value(int64_t{255})), 255)));
    std::string end = a.get(2, "end", Value("...")).str();
    if (utf8_length(s) <= length) return Value(s);
    return Value(utf8_slice(s, 0, static_cast<int64_t>(length - std::min(length, utf8_length(end))), 1) + end);
}

struct FilterEntry {
    std::string_view name;
    FilterFn fn;
};

constexpr std::array<FilterEntry, 49> kFilters = {{
    {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize},
    {"center", f_center}, {"count", f_length}, {"d", f_default}, {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape}, {"escape", f_escape}, {"first", f_first},
    {"float", f_float}, {"forceescape", f_escape}, {"format", f_format}, {"indent", f_indent},
    {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last}, {"length", f_length},
    {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max}, {"min", f_min},
    {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
    {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select},
    {"selectattr", f_selectattr}, {"sort", f_sort}, {"string", f_string}, {"sum", f_sum},
    {"title", f_title}, {"tojson", f_tojson}, {"trim", f_trim}, {"truncate", f_truncate},
    {"unique", f_unique}, {"upper", f_upper}, {"wordcount", f_wordcount},
    {"pprint", f_string}, {"striptags", f_trim}, {"xmlattr", f_string},
    {"filesizeformat", f_string}, {"urlencode", f_string},
}};

// ---- tests ------------------------------------------------------------------------

bool t_defined(Interpreter&, const Value& v, Args&, size_t) { return !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, Args&, size_t) { return v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, Args&, size_t) { return v.is_none(); }
bool t_string(Interpreter&, const Value& v, Args&, size_t) { return v.is_string(); }
bool t_number(Interpreter&, const Value& v, Args&, size_t) { return v.is_number() || v.is_bool(); }
bool t_integer(Interpreter&, const Value& v, Args&, size_t) { return v.is_int(); }
bool t_float(Interpreter&, const Value& v, Args&, size_t) { return v.is_float(); }
bool t_mapping(Interpreter&, const Value& v, Args&, size_t) { return v.is_dict(); }
bool t_iterable(Interpreter&, const Value& v, Args&, size_t) {
    return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined() || v.is_iterator();
}
bool t_sequence(Interpreter&, const Value& v, Args&, size_t) { return v.is_list() || v.is_dict() || v.is_string(); }
bool t_boolean(Interpreter&, const Value& v, Args&, size_t) { return v.is_bool(); }
bool t_true(Interpreter&, const Value& v, Args&, size_t) { return v.is_bool() && v.as_bool(); }
bool t_false(Interpreter&, const Value& v, Args&, size_t) { return v.is_bool() && !v.as_bool(); }
bool t_callable(Interpreter&, const Value& v, Args&, size_t) { return v.is_callable(); }
bool t_eq(Interpreter&, const Value& v, Args& a, size_t) { return equals(v, a.get(0, "other")); }
bool t_ne(Interpreter&, const Value& v, Args& a, size_t) { return !equals(v, a.get(0, "other")); }
bool t_lt(Interpreter&, const Value& v, Args& a, size_t) { return less_than(v, a.get(0, "other")); }
bool t_gt(Interpreter&, const Value& v, Args& a, size_t) { return less_than(a.get(0, "other"), v); }
bool t_le(Interpreter&, const Value& v, Args& a, size_t) { return !less_than(a.get(0, "other"), v); }
bool t_ge(Interpreter&, const Value& v, Args& a, size_t) { return !less_than(v, a.get(0, "other")); }
bool t_odd(Interpreter&, const Value& v, Args&, size_t) { return v.is_int() && (v.as_int() % 2) != 0; }
bool t_even(Interpreter&, const Value& v, Args&, size_t) { return v.is_int() && (v.as_int() % 2) == 0; }
bool t_divisibleby(Interpreter&, const Value& v, Args& a, size_t) {
    int64_t d = to_int(a.get(0, "num"), 0);
    if (d == -1 || d == 1) return v.is_int();  // also avoids INT64_MIN % -1
    return d != 0 && v.is_int() && v.as_int() % d == 0;
}
bool t_in(Interpreter&, const Value& v, Args& a, size_t line) {
    Value seq = a.get(0, "seq");
    if (seq.is_string()) return v.is_string() && seq.as_string().find(v.as_string()) != std::string::npos;
    if (seq.is_dict()) return seq.as_dict().find(v) != nullptr;
    for (const Value& item : iterate(seq, line)) {
        if (equals(item, v)) return true;
    }
    return false;
}
bool t_lower(Interpreter&, const Value& v, Args&, size_t) { return v.is_string() && to_lower(v.as_string()) == v.as_string(); }
bool t_upper(Interpreter&, const Value& v, Args&, size_t) { return v.is_string() && to_upper(v.as_string()) == v.as_string(); }
bool t_sameas(Interpreter&, const Value& v, Args& a, size_t) {
    Value other = a.get(0, "other");
    if (v.is_none() || v.is_bool() || v.is_undefined()) return equals(v, other) && v.storage().index() == other.storage().index();
    if (v.is_list() && other.is_list()) return &v.as_list() == &other.as_list();
    if (v.is_dict() && other.is_dict()) return &v.as_dict() == &other.as_dict();
    return false;
}

struct TestEntry {
    std::string_view name;
    TestFn fn;
};

constexpr std::array<TestEntry, 36> kTests = {{
    {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"string", t_string},
    {"number", t_number}, {"integer", t_integer}, {"float", t_float}, {"mapping", t_mapping},
    {"iterable", t_iterable}, {"sequence", t_sequence}, {"boolean", t_boolean}, {"true", t_true},
    {"false", t_false}, {"callable", t_callable}, {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq},
    {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"gt", t_gt},
    {"greaterthan", t_gt}, {">", t_gt}, {"le", t_le}, {"<=", t_le}, {"ge", t_ge}, {">=", t_ge},
    {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby}, {"in", t_in},
    {"lower", t_lower}, {"upper", t_upper}, {"sameas", t_sameas},
}};

// ---- methods ----------------------------------------------------------------------

constexpr std::string_view kUnsafeListMethods[] = {"append", "pop", "extend", "insert", "remove",
                                                   "reverse", "sort", "clear"};
constexpr std::string_view kUnsafeDictMethods[] = {"pop", "update", "setdefault", "clear", "popitem"};

Value string_method(const std::string& s, const std::string& name) {
    auto m = [&](Builtin fn) { return builtin("str." + name, std::move(fn)); };
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        bool left = name != "rstrip", right = name != "lstrip";
        return m([s, left, right](Args& a) { return Value(strip(s, a.get(0, "chars"), left, right)); });
    }
    if (name == "split" || name == "rsplit") {
        bool from_right = name == "rsplit";
        return m([s, from_right](Args& a) {
            Value sep = a.get(0, "sep", Value(None{}));
            return Value(split(s, sep, to_int(a.get(1, "maxsplit", Value(int64_t{-1})), -1), from_right));
        });
    }
    if (name == "startswith" || name == "endswith") {
        bool starts = name == "startswith";
        return m([s, starts](Args& a) {
            Value p = a.get(0, "prefix");
            List options = p.is_list() ? p.as_list() : List{p};
            for (const Value& o : options) {
                const std::string& t = o.str();
                if (t.size() > s.size()) continue;
                if (starts ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0) {
                    return Value(true);
                }
            }
            return Value(false);
        });
    }
    if (name == "upper") return m([s](Args&) { return Value(to_upper(s)); });
    if (name == "lower") return m([s](Args&) { return Value(to_lower(s)); });
    if (name == "title") return m([s](Args&) { return Value(title_case(s)); });
    if (name == "capitalize") return m([s](Args&) { return Value(capitalize(s)); });
    if (name == "replace") {
        return m([s](Args& a) {
            return Value(replace_all(s, a.get(0, "old").str(), a.get(1, "new").str(),
                                     to_int(a.get(2, "count", Value(int64_t{-1})), -1)));
        });
    }
    if (name == "format") return m([s](Args& a) { return Value(py_format(s, a, 0)); });
    if (name == "join") {
        return m([s](Args& a) {
            std::string out;
            bool first = true;
            for (const Value& item : iterate(a.get(0, "iterable"), 0)) {
                if (!first) out += s;
                first = false;
                out += item.str();
            }
            return Value(out);
        });
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "count") {
        return m([s, name](Args& a) -> Value {
            std::string t = a.get(0, "sub").str();
            if (name == "count") {
                if (t.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
                int64_t n = 0;
                for (size_t p = s.find(t); p != std::string::npos; p = s.find(t, p + t.size())) ++n;
                return Value(n);
            }
            size_t p = name == "rfind" ? s.rfind(t) : s.find(t);
            if (p == std::string::npos) {
                if (name == "index") template_error(0, "substring not found");
                return Value(int64_t{-1});
            }
            return Value(static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, p))));
        });
    }
    if (name == "splitlines") {
        return m([s](Args&) {
            List lines;
            size_t start = 0;
            for (size_t i = 0; i < s.size(); ++i) {
                if (s[i] == '\n' || s[i] == '\r') {
                    lines.emplace_back(s.substr(start, i - start));
                    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
                    start = i + 1;
                }
            }
            if (start < s.size()) lines.emplace_back(s.substr(start));
            return Value(std::move(lines));
        });
    }
    auto all_of = [&](auto pred) {
        return m([s, pred](Args&) {
            if (s.empty()) return Value(false);
            for (unsigned char c : s) {
                if (!pred(c)) return Value(false);
            }
            return Value(true);
        });
    };
    if (name == "isdigit") return all_of([](unsigned char c) { return std::isdigit(c) != 0; });
    if (name == "isalpha") return all_of([](unsigned char c) { return std::isalpha(c) != 0; });
    if (name == "isalnum") return all_of([](unsigned char c) { return std::isalnum(c) != 0; });
    if (name == "isspace") return all_of([](unsigned char c) { return is_py_space(c); });
    if (name == "islower") return m([s](Args&) { return Value(to_lower(s) == s && to_upper(s) != s); });
    if (name == "isupper") return m([s](Args&) { return Value(to_upper(s) == s && to_lower(s) != s); });
    return Value::undefined(name);
}

}  // namespace

FilterFn find_filter(std::string_view name) {
    for (const FilterEntry& f : kFilters) {
        if (f.name == name) return f.fn;
    }
    return nullptr;
}

TestFn find_test(std::string_view name) {
    for (const TestEntry& t : kTests) {
        if (t.name == name) return t.fn;
    }
    return nullptr;
}

Value bound_method(const Value& object, const std::string& name, size_t line) {
    if (object.is_string()) return string_method(object.as_string(), name);
    if (object.is_dict()) {
        for (std::string_view unsafe : kUnsafeDictMethods) {
            if (name == unsafe) template_error(line, "access to attribute '" + name + "' of 'dict' object is unsafe.");
        }
        Value self = object;
        if (name == "get") {
            return builtin("dict.get", [self](Args& a) {
                Value key = a.get(0, "key");
                const Value* v = self.as_dict().find(key);
                return v != nullptr ? *v : a.get(1, "default", Value(None{}));
            });
        }
        if (name == "items" || name == "keys" || name == "values") {
            return builtin("dict." + name, [self, name](Args&) {
                List out;
                for (const auto& [k, v] : self.as_dict().entries()) {
                    if (name == "items") out.push_back(Value::tuple(List{k, v}));
                    else if (name == "keys") out.emplace_back(k);
                    else out.push_back(v);
                }
                return Value(std::move(out));
            });
        }
        return Value::undefined(name);
    }
    if (object.is_list()) {
        for (std::string_view unsafe : kUnsafeListMethods) {
            if (name == unsafe) template_error(line, "access to attribute '" + name + "' of 'list' object is unsafe.");
        }
        Value self = object;
        if (name == "index" || name == "count") {
            return builtin("list." + name, [self, name](Args& a) -> Value {
                Value target = a.get(0, "value");
                int64_t n = 0;
                const List& list = self.as_list();
                for (size_t i = 0; i < list.size(); ++i) {
                    if (!equals(list[i], target)) continue;
                    if (name == "index") return Value(static_cast<int64_t>(i));
                    ++n;
                }
                if (name == "index") template_error(0, "value is not in list");
                return Value(n);
            });
        }
    }
    return Value::undefined(name);
}

void add_globals(Scope& scope, const RenderOptions& options, std::vector<std::weak_ptr<Dict>>& namespaces) {
    scope.set("range", builtin("range", [](Args& a) {
        int64_t start = 0, stop = 0, step = 1;
        if (a.positional.size() == 1) {
            stop = to_int(a.positional[0], 0);
        } else if (a.positional.size() >= 2) {
            start = to_int(a.positional[0], 0);
            stop = to_int(a.positional[1], 0);
            if (a.positional.size() >= 3) step = to_int(a.positional[2], 1);
        }
        if (step == 0) template_error(0, "range() arg 3 must not be zero");
        List out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= (1u << 20)) template_error(0, "range() too large");
            out.emplace_back(i);
        }
        return Value(std::move(out));
    }));
    scope.set("dict", builtin("dict", [](Args& a) {
        Dict d;
        if (!a.positional.empty() && a.positional[0].is_dict()) d = a.positional[0].as_dict();
        for (const auto& [k, v] : a.keyword) d.set(k, v);
        return Value(std::move(d));
    }));
    scope.set("namespace", builtin("namespace", [&namespaces](Args& a) {
        auto d = std::make_shared<Dict>();
        namespaces.push_back(d);
        if (!a.positional.empty() && a.positional[0].is_dict()) *d = a.positional[0].as_dict();
        for (const auto& [k, v] : a.keyword) d->set(k, v);
        return Value(Value::Namespace{d});
    }));
    scope.set("raise_exception", builtin("raise_exception", [](Args& a) -> Value {
        throw Error(ErrorCode::Format, "template raised: " + a.get(0, "message").str());
    }));
    std::optional<std::time_t> now = options.now;
    scope.set("strftime_now", builtin("strftime_now", [now](Args& a) {
        std::time_t t = now.value_or(std::time(nullptr));
        std::tm tm{};
        localtime_r(&t, &tm);
        char buf[256];
        size_t n = std::strftime(buf, sizeof buf, a.get(0, "format").str().c_str(), &tm);
        return Value(std::string(buf, n));
    }));
}

}  // namespace loom::jinja

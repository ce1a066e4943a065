// tojson: Python's json.dumps as Hugging Face calls it for chat templates
// (ensure_ascii=False), and the code-point string helpers.
#include <cmath>
#include <cstdio>
#include <algorithm>

#include "jinja/interpreter.h"

namespace loom::jinja {
namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    if (ensure_ascii) {
        // Python's json escapes every non-ASCII code point as \uXXXX (surrogate pairs above
        // the BMP); the rest as below.
        for (size_t i = 0; i < s.size();) {
            auto c = static_cast<unsigned char>(s[i]);
            if (c < 0x80) {
                std::string one(1, static_cast<char>(c));
                std::string escaped;
                json_string(escaped, one, false);
                out += escaped.substr(1, escaped.size() - 2);
                ++i;
                continue;
            }
            size_t n = utf8_char_bytes(s, i);
            uint32_t cp = n == 1 ? c : (c & (0x7F >> n));
            for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
            i += n;
            char buf[16];
            if (cp >= 0x10000) {
                uint32_t v = cp - 0x10000;
                std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            }
            out += buf;
        }
        out += '"';
        return;
    }
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

// json.dumps turns non-string keys into strings: 1 -> "1", True -> "true".
std::string key_text(const Value& k) {
    if (k.is_string()) return k.as_string();
    if (k.is_bool()) return k.as_bool() ? "true" : "false";
    if (k.is_none()) return "null";
    return k.repr();
}

struct JsonWriter {
    std::string indent;  // one level of indentation; no newlines at all when absent
    bool pretty;
    bool ensure_ascii;
    bool sort_keys;
    std::string_view item_sep;
    std::string_view key_sep;
    size_t line;
    std::string out;

    void newline(int level) {
        out += '\n';
        for (int i = 0; i < level; ++i) out += indent;
    }

    void write(const Value& v, int level) {
        if (v.is_none()) {
            out += "null";
        } else if (v.is_bool()) {
            out += v.as_bool() ? "true" : "false";
        } else if (v.is_int()) {
            out += std::to_string(v.as_int());
        } else if (v.is_float()) {
            double d = v.as_number();
            out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : float_repr(d);
        } else if (v.is_string()) {
            json_string(out, v.as_string(), ensure_ascii);
        } else if (v.is_list()) {
            const List& list = v.as_list();
            if (list.empty()) {
                out += "[]";
                return;
            }
            out += '[';
            for (size_t i = 0; i < list.size(); ++i) {
                if (i) out += item_sep;
                if (pretty) newline(level + 1);
                write(list[i], level + 1);
            }
            if (pretty) newline(level);
            out += ']';
        } else if (v.is_dict() || v.is_namespace()) {
            std::vector<const std::pair<Value, Value>*> entries;
            for (const auto& entry : v.as_dict().entries()) entries.push_back(&entry);
            if (sort_keys) {
                std::stable_sort(entries.begin(), entries.end(),
                                 [](const auto* a, const auto* b) { return less_than(a->first, b->first); });
            }
            if (entries.empty()) {
                out += "{}";
                return;
            }
            out += '{';
            for (size_t i = 0; i < entries.size(); ++i) {
                if (i) out += item_sep;
                if (pretty) newline(level + 1);
                json_string(out, key_text(entries[i]->first), ensure_ascii);
                out += key_sep;
                write(entries[i]->second, level + 1);
            }
            if (pretty) newline(level);
            out += '}';
        } else {
            template_error(line, "Object of type " + (v.is_undefined() ? std::string("Undefined") : v.type_name()) +
                                     " is not JSON serializable");
        }
    }
};

}  // namespace

std::string to_json(const Value& value, const Value& indent, bool ensure_ascii, bool sort_keys,
                    std::string_view item_sep, std::string_view key_sep, size_t line) {
    // json.dumps: an int indent is that many spaces, a string is used as is, None is compact.
    bool pretty = indent.is_int() || indent.is_string();
    std::string unit = indent.is_string() ? indent.as_string()
                                          : std::string(indent.is_int() ? static_cast<size_t>(std::max<int64_t>(0, indent.as_int())) : 0, ' ');
    JsonWriter w{unit, pretty, ensure_ascii, sort_keys, item_sep, key_sep, line, {}};
    w.write(value, 0);
    return w.out;
}

namespace {

std::vector<size_t> code_point_starts(std::string_view s) {
    std::vector<size_t> starts;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    return starts;
}

}  // namespace

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

std::string utf8_slice(std::string_view s, int64_t start, int64_t stop, int64_t step) {
    std::vector<size_t> starts = code_point_starts(s);
    auto n = static_cast<int64_t>(starts.size());
    auto piece = [&](int64_t i) {
        size_t b = starts[static_cast<size_t>(i)];
        size_t e = i + 1 < n ? starts[static_cast<size_t>(i + 1)] : s.size();
        return s.substr(b, e - b);
    };
    std::string out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (i >= 0 && i < n) out += piece(i);
    }
    return out;
}

}  // namespace loom::jinja

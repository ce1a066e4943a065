// JSON parsing with limits and typed field reads for the OpenAI request parsers; see
// openai_request_json.h. Error text names the field and says what was expected and got.
#include "server/openai_request_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace loom::server::request_json {

namespace {

std::string format_number(double x) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

std::string dump_safe(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The part of nlohmann's message after "parse error at line L, column C: " (or after
// the "[json.exception.…] " prefix for other errors).
std::string_view error_detail(std::string_view what) {
    size_t pos = what.find("parse error");
    if (pos != std::string_view::npos) {
        size_t colon = what.find(": ", pos);
        if (colon != std::string_view::npos) return what.substr(colon + 2);
    }
    if (!what.empty() && what[0] == '[') {
        size_t close = what.find("] ");
        if (close != std::string_view::npos) return what.substr(close + 2);
    }
    return what;
}

std::string range_text(double min, double max) {
    return "between " + format_number(min) + " and " + format_number(max);
}

std::string integer_range_text(int64_t min, int64_t max) {
    if (max == std::numeric_limits<int64_t>::max() && min != std::numeric_limits<int64_t>::min()) {
        return ">= " + std::to_string(min);
    }
    return "between " + std::to_string(min) + " and " + std::to_string(max);
}

// Nesting depth and object members, counted in one pass over the bytes before the
// parse. nlohmann's parse callback could count them too, but with a callback (3.11) it
// rescans a container's elements at the end of each child object: quadratic in the
// length of an array of objects, like a chat's messages. The pass needs to be right
// only for valid JSON; invalid JSON fails the parse after it.
void check_limits(std::string_view body) {
    std::vector<size_t> members;  // per open container, innermost last; SIZE_MAX: an array
    size_t members_total = 0;
    bool in_string = false;
    for (size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (members.size() >= kMaxDepth) {
                invalid("", "request body nests JSON deeper than " + std::to_string(kMaxDepth) +
                                " levels (at byte offset " + std::to_string(i) + ")");
            }
            members.push_back(c == '{' ? 0 : SIZE_MAX);
        } else if (c == '}' || c == ']') {
            if (!members.empty()) members.pop_back();
        } else if (c == ':' && !members.empty() && members.back() != SIZE_MAX) {
            if (++members.back() > kMaxObjectMembers) {
                invalid("", "request body has a JSON object with more than " +
                                std::to_string(kMaxObjectMembers) + " members (at byte offset " +
                                std::to_string(i) + ")");
            }
            if (++members_total > kMaxBodyMembers) {
                invalid("", "request body has more than " + std::to_string(kMaxBodyMembers) +
                                " JSON object members in all");
            }
        }
    }
}

}  // namespace

void invalid(std::string param, std::string message) {
    throw ApiError(400, std::move(message), std::move(param));
}

Json parse_json(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        invalid("", "request body is empty; expected a JSON object");
    }
    check_limits(body);
    try {
        return Json::parse(body.begin(), body.end());
    } catch (const Json::parse_error& e) {
        // e.byte is the 1-based index of the last byte read; report a 0-based offset.
        size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        std::string detail(error_detail(e.what()));
        if (detail.find("ill-formed UTF-8") != std::string::npos) {
            invalid("",
                    "request body is not valid UTF-8: ill-formed UTF-8 byte in a JSON string at "
                    "byte offset " +
                        std::to_string(offset) + " (JSON text must be UTF-8; escape binary data)");
        }
        invalid("", "request body is not valid JSON at byte offset " + std::to_string(offset) +
                        ": " + detail);
    } catch (const Json::exception& e) {
        // out_of_range.406: a number too large for a double.
        invalid("", "request body is not valid JSON: " + std::string(error_detail(e.what())));
    }
}

Json parse_json_object(std::string_view body) {
    Json json = parse_json(body);
    if (!json.is_object()) {
        invalid("", "request body must be a JSON object; got " + describe(json));
    }
    return json;
}

std::string describe(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return value.get<bool>() ? "true" : "false";
        case Json::value_t::string: {
            const std::string& s = value.get_ref<const std::string&>();
            if (s.empty()) return "an empty string";
            constexpr size_t kShown = 40;
            if (s.size() <= kShown) return "the string " + dump_safe(value);
            size_t cut = kShown;
            while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
            return "the string " + dump_safe(Json(s.substr(0, cut))) + "… (" +
                   std::to_string(s.size()) + " bytes)";
        }
        case Json::value_t::array:
            return "an array";
        case Json::value_t::object:
            return "an object";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float:
            return dump_safe(value);
        default:
            return "a non-JSON value";
    }
}

std::string member_path(std::string_view path, std::string_view key) {
    if (path.empty()) return std::string(key);
    std::string out(path);
    out += '.';
    out += key;
    return out;
}

std::string element_path(std::string_view path, size_t index) {
    std::string out(path);
    out += '[';
    out += std::to_string(index);
    out += ']';
    return out;
}

const Json* field(const Json& object, std::string_view key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
}

bool as_bool(const Json& value, const std::string& path) {
    if (!value.is_boolean()) invalid(path, path + " must be a boolean; got " + describe(value));
    return value.get<bool>();
}

const std::string& as_string(const Json& value, const std::string& path) {
    if (!value.is_string()) invalid(path, path + " must be a string; got " + describe(value));
    return value.get_ref<const std::string&>();
}

const Json& as_object(const Json& value, const std::string& path) {
    if (!value.is_object()) invalid(path, path + " must be an object; got " + describe(value));
    return value;
}

const Json& as_array(const Json& value, const std::string& path) {
    if (!value.is_array()) invalid(path, path + " must be an array; got " + describe(value));
    return value;
}

double as_number(const Json& value, const std::string& path, double min, double max) {
    if (!value.is_number()) {
        invalid(path,
                path + " must be a number " + range_text(min, max) + "; got " + describe(value));
    }
    double x = value.get<double>();
    if (!(x >= min && x <= max)) {
        invalid(path, path + " must be " + range_text(min, max) + "; got " + describe(value));
    }
    return x;
}

int64_t as_integer(const Json& value, const std::string& path, int64_t min, int64_t max) {
    auto fail = [&] {
        invalid(path, path + " must be an integer " + integer_range_text(min, max) + "; got " +
                          describe(value));
    };
    int64_t x = 0;
    if (value.is_number_unsigned()) {
        uint64_t u = value.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail();
        x = static_cast<int64_t>(u);
    } else if (value.is_number_integer()) {
        x = value.get<int64_t>();
    } else if (value.is_number_float()) {
        double d = value.get<double>();
        // 2^63 is the first double above INT64_MAX.
        if (!(std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
            fail();
        }
        x = static_cast<int64_t>(d);
    } else {
        fail();
    }
    if (x < min || x > max) fail();
    return x;
}

int32_t as_token_id(const Json& value, const std::string& path) {
    if (!value.is_number()) {
        invalid(path, path + " must be a token id (an integer >= 0); got " + describe(value));
    }
    return static_cast<int32_t>(as_integer(value, path, 0, std::numeric_limits<int32_t>::max()));
}

}  // namespace loom::server::request_json

// HttpHeaders and the RFC 9110 grammar helpers.
#include "server/http_headers.h"

namespace loom::server {

namespace {

char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

bool is_token_char(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~': return true;
        default: return false;
    }
}

bool is_token(std::string_view text) noexcept {
    if (text.empty()) return false;
    for (char c : text) {
        if (!is_token_char(c)) return false;
    }
    return true;
}

std::string_view trim_ows(std::string_view text) noexcept {
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
    return text.substr(begin, end - begin);
}

std::vector<std::string_view> split_list(std::string_view value) {
    std::vector<std::string_view> items;
    size_t start = 0;
    while (start <= value.size()) {
        size_t comma = value.find(',', start);
        if (comma == std::string_view::npos) comma = value.size();
        std::string_view item = trim_ows(value.substr(start, comma - start));
        if (!item.empty()) items.push_back(item);
        start = comma + 1;
    }
    return items;
}

void HttpHeaders::add(std::string name, std::string value) {
    fields_.push_back({std::move(name), std::move(value)});
}

const std::string* HttpHeaders::find(std::string_view name) const noexcept {
    for (const auto& field : fields_) {
        if (ascii_iequals(field.name, name)) return &field.value;
    }
    return nullptr;
}

std::vector<std::string_view> HttpHeaders::find_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& field : fields_) {
        if (ascii_iequals(field.name, name)) values.emplace_back(field.value);
    }
    return values;
}

size_t HttpHeaders::count(std::string_view name) const noexcept {
    size_t n = 0;
    for (const auto& field : fields_) {
        if (ascii_iequals(field.name, name)) ++n;
    }
    return n;
}

bool HttpHeaders::has_token(std::string_view name, std::string_view token) const {
    for (const auto& field : fields_) {
        if (!ascii_iequals(field.name, name)) continue;
        for (std::string_view item : split_list(field.value)) {
            if (ascii_iequals(item, token)) return true;
        }
    }
    return false;
}

}  // namespace loom::server

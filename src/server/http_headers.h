// HttpHeaders: the header fields of one HTTP message, in arrival order, with
// case-insensitive lookup (RFC 9110 §5.1). Repeated fields stay separate entries:
// find() gives the first, find_all() every one, has_token() reads comma-separated list
// fields across all their lines (RFC 9110 §5.3), so the caller decides between
// combining and rejecting duplicates. Also the small RFC 9110 grammar helpers (token,
// OWS) that the parser and the serializer share.
//
// Not a parser: HttpParser validates names and values before it adds them, and the
// response serializer validates what a handler adds (no CR/LF: no response splitting).
// https://www.rfc-editor.org/rfc/rfc9110#section-5
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace loom::server {

// ASCII case-insensitive equality (header names and tokens are ASCII).
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

// tchar of RFC 9110 §5.6.2: the characters of methods, field names and tokens.
bool is_token_char(char c) noexcept;
// A non-empty run of tchar.
bool is_token(std::string_view text) noexcept;

// Strips optional whitespace (SP / HTAB) from both ends.
std::string_view trim_ows(std::string_view text) noexcept;

// Splits a comma-separated list field value into its trimmed, non-empty elements
// ("a, ,b" -> {"a", "b"}; RFC 9110 §5.6.1 says empty elements are ignored).
std::vector<std::string_view> split_list(std::string_view value);

struct HttpHeader {
    std::string name;   // as received or as the handler wrote it
    std::string value;  // without surrounding whitespace
};

class HttpHeaders {
public:
    void add(std::string name, std::string value);

    // The first value of `name`, or nullptr. The pointer lives until the next add().
    const std::string* find(std::string_view name) const noexcept;
    // Every value of `name`, in arrival order.
    std::vector<std::string_view> find_all(std::string_view name) const;
    size_t count(std::string_view name) const noexcept;
    bool has(std::string_view name) const noexcept { return find(name) != nullptr; }

    // True when any line of list field `name` has `token` as an element, compared
    // case-insensitively ("Connection: keep-alive, Close" has "close").
    bool has_token(std::string_view name, std::string_view token) const;

    size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    std::vector<HttpHeader>::const_iterator begin() const noexcept { return fields_.begin(); }
    std::vector<HttpHeader>::const_iterator end() const noexcept { return fields_.end(); }

private:
    std::vector<HttpHeader> fields_;
};

}  // namespace loom::server

// The JSON side of reading an OpenAI request body, shared by the request parsers
// (openai_request.cpp): the parse itself, with the limits a server needs on untrusted
// input, and typed reads of one field that throw ApiError 400 naming the field's path
// ("temperature", "messages[1].content[0].text") and saying what was expected and got.
//
//   Json body = parse_json_object(text);                  // throws ApiError
//   if (const Json* v = field(body, "temperature"))        // absent or null: nullptr
//       t = as_number(*v, "temperature", 0.0, 2.0);       // throws ApiError
//
// Not here: which fields an endpoint has and what they mean (openai_request.cpp).
// Reference: RFC 8259 (JSON), OpenAI API reference (error object).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/openai_types.h"

namespace loom::server::request_json {

using Json = nlohmann::ordered_json;

// Nesting deeper than this is refused: code after the parser (Jinja value conversion,
// dumps) walks values recursively. Real requests nest a handful of levels; JSON
// schemas for structured output a few dozen.
inline constexpr int kMaxDepth = 128;
// Object members, per object and in the whole body. ordered_json inserts a key after a
// linear scan of the object's members, so building costs up to (members per object) x
// (members in all) / 2 key comparisons: 33 M for the worst body these bounds allow
// (64 objects of 1024 members, 0.5 MB), which parses in about 150 ms on one Zen 4 core,
// the time nlohmann needs anyway for a 16 MiB string (the HTTP body limit). Real
// requests stay far below: logit_bias is the widest object, a chat has a few members
// per message.
inline constexpr size_t kMaxObjectMembers = 1024;
inline constexpr size_t kMaxBodyMembers = 64 * 1024;

// Parses `body` as one JSON value (RFC 8259, UTF-8; no comments), keeping key order.
// Throws ApiError 400 for: an empty body; malformed JSON (with the byte offset); text
// that is not UTF-8; a number out of the range of a double; nesting over kMaxDepth;
// an object with more than kMaxObjectMembers members, or more than kMaxBodyMembers in
// all. Duplicate keys: the last wins.
Json parse_json(std::string_view body);

// parse_json, and the value must be an object (else ApiError 400).
Json parse_json_object(std::string_view body);

// Throws ApiError{400, message, param} of type invalid_request_error.
[[noreturn]] void invalid(std::string param, std::string message);

// A short description of a value for "got …" in messages: its type, and for scalars
// the value itself (strings quoted and cut to a few dozen bytes).
std::string describe(const Json& value);

// "path.key" / "path[i]" (just "key" for an empty path).
std::string member_path(std::string_view path, std::string_view key);
std::string element_path(std::string_view path, size_t index);

// The member `key` of `object`, or nullptr when it is absent or null (OpenAI treats an
// explicit null like an absent optional field). `object` must be an object.
const Json* field(const Json& object, std::string_view key);

// Typed reads: the value converted, or ApiError 400 with `path` as the param.
bool as_bool(const Json& value, const std::string& path);
const std::string& as_string(const Json& value, const std::string& path);
const Json& as_object(const Json& value, const std::string& path);
const Json& as_array(const Json& value, const std::string& path);
// Any JSON number in [min, max] (a bool is not a number).
double as_number(const Json& value, const std::string& path, double min, double max);
// An integer in [min, max]; a float with an integral value (1e3) counts as one.
int64_t as_integer(const Json& value, const std::string& path, int64_t min, int64_t max);
// A token id: an integer in [0, INT32_MAX].
int32_t as_token_id(const Json& value, const std::string& path);

}  // namespace loom::server::request_json

// Writing GBNF text (llama.cpp's grammar format, read by runtime/grammar.h): quoted
// literals and character classes with every character escaped so that the grammar
// parser reads back exactly the intended code points. Used by the JSON-schema converter
// (json_schema_grammar.h) and its pattern and number helpers.
// Not here: parsing GBNF (runtime/grammar_parser.cpp).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom::server {

using CodeRanges = std::vector<std::pair<char32_t, char32_t>>;  // inclusive, code points

// "text" as a GBNF literal (text is UTF-8; quotes, backslashes and control characters
// escaped).
std::string gbnf_literal(std::string_view text);

// A GBNF character class of the ranges, e.g. [a-z\x5F]; [] when empty.
std::string gbnf_class(const CodeRanges& ranges);

// Ranges sorted, merged and clipped to U+0000..U+10FFFF.
CodeRanges normalize_ranges(CodeRanges ranges);
// The code points of [0, U+10FFFF] not in the (normalized) ranges.
CodeRanges complement_ranges(const CodeRanges& ranges);
// The code points in both (normalized) sets.
CodeRanges intersect_ranges(const CodeRanges& a, const CodeRanges& b);

// Appends cp as UTF-8.
void append_utf8(std::string& out, char32_t cp);

}  // namespace loom::server

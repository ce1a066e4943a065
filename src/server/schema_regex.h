// JSON Schema "pattern" -> GBNF for the inside of a JSON string (between the quotes)
// whose decoded value matches the pattern. Patterns are ECMA-262 regular expressions
// with search semantics: a side without an anchor (^ at the start, $ at the end of a
// top-level alternative) may have any text there, as the schema says.
//
// Supported: literals, ".", classes [a-z] [^...] with escapes, \d \w \s \D \W \S,
// \t \n \r \f \v \0 \xHH \uHHHH \u{H...} and escaped metacharacters, groups ( ),
// (?: ), (?<name> ), alternation |, quantifiers * + ? {n} {n,} {n,m} (lazy forms too:
// the same strings), anchors ^ and $ at the ends of top-level alternatives.
// Characters that JSON must escape (", \, control characters) are produced in their
// escaped form, so the generated JSON decodes to the matched text.
//
// Errors: loom::Error(Unsupported) naming the construct and its position for
// lookaround, backreferences, \b \B, \p{...}, \cX, anchors anywhere else, a negated
// shorthand inside a class, quantifier counts above 10000 or groups nested deeper than
// 64; loom::Error(InvalidArgument) for a malformed pattern (unbalanced parentheses, an
// unclosed class, a quantifier with nothing to repeat, a reversed range).
#pragma once

#include <string>
#include <string_view>

namespace loom::server {

// any_char_rule: the name of a GBNF rule matching one JSON string character (raw or
// escaped), used for the unanchored ends.
std::string pattern_to_gbnf(std::string_view pattern, std::string_view any_char_rule);

}  // namespace loom::server

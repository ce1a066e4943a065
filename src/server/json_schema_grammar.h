// JSON Schema -> GBNF: a grammar whose sentences are JSON texts that validate against the
// schema, for constrained decoding (runtime/grammar.h parses the result). The edge of
// the system: nlohmann JSON stays in server/ and cli/.
//
//   std::string gbnf = json_schema_to_grammar(nlohmann::ordered_json::parse(text));
//   auto grammar = runtime::Grammar::parse(gbnf);
//
// Supported: type (one or a list; inferred from the keywords when absent), enum, const,
// properties / required (properties come in schema order; any subset of the optional
// ones), additionalProperties (false, true or a schema; extra keys differ from the
// declared ones), items / prefixItems (and draft-7 array items + additionalItems),
// minItems / maxItems, anyOf, oneOf, allOf (a merge of object members: properties,
// required and equal keywords), $ref to "#", "#/$defs/...", "#/definitions/..." or any
// local JSON pointer (recursion allowed), string format date / time / date-time / uuid /
// email, minLength / maxLength, pattern (server/schema_regex.h), minimum / maximum /
// exclusiveMinimum / exclusiveMaximum (server/schema_numbers.h), uniqueItems: false.
// Annotations are ignored: title, description, examples, default, $schema, $id,
// $comment, deprecated, readOnly, writeOnly.
//
// Approximations, all producing valid JSON only (a subset of what the schema allows):
//   - without additionalProperties, no extra properties are produced (the schema's
//     default allows them; a model has no use for them);
//   - array items after prefixItems are produced only when "items" gives their schema;
//   - oneOf is read as anyOf: a text matching two branches would fail oneOf, so
//     branches should not overlap;
//   - numbers: at most 16 fraction digits and a two-digit exponent, bounded numbers no
//     exponent, integers on an open side at most 18 digits (schema_numbers.h);
//   - whitespace between tokens is optional and limited (one space, or one or two line
//     breaks and up to 20 spaces or tabs), as llama.cpp's converter allows, so that a
//     small model cannot loop on whitespace; none before or after the whole text, so
//     the grammar is complete at the value's last character and generation stops there
//     (llama.cpp allows whitespace after it, which a model then fills before it ends).
//
// Errors: loom::Error with the JSON pointer of the offending schema ("json schema
// #/properties/age: ..."): Unsupported for a keyword or value this converter does not
// handle (never ignored silently), a remote $ref, a format it does not know, an
// unsupported regex construct; InvalidArgument for a malformed schema (a keyword with a
// value of the wrong type, a $ref that resolves to nothing, minItems above what the
// items allow, schema false where a value is needed); OutOfRange for schemas nested
// deeper than 64 levels.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace loom::server {

std::string json_schema_to_grammar(const nlohmann::ordered_json& schema);

// Any JSON object (the OpenAI response_format {"type": "json_object"}).
std::string json_object_grammar();

}  // namespace loom::server

// Numeric ranges as GBNF, for the JSON-schema converter (json_schema_grammar.h):
// integers within [minimum, maximum] written as digit patterns (the classic range-to-
// pattern split by digit count and leading digit), and decimal numbers within bounds.
//
// What is generated (a subset of the valid JSON numbers, never a value outside the
// bounds):
//   integers: no leading zeros, no "-0"; an open side stops at 18 digits, so every
//             value fits in 64 bits and a small model cannot loop on digits;
//   numbers with a bound: an integer in range, or n.f with a non-zero fraction of up to
//             16 digits where the whole interval (n, n+1) lies within the bounds; no
//             exponent. Values between a fractional bound and the next integer (e.g.
//             0.5..1 for minimum 0.5) are not produced.
// Bounds must be finite and within +-1e15 (where doubles still hold every integer);
// otherwise loom::Error(Unsupported), except that a maximum of 1e18 or more and a
// minimum of -1e18 or less (a 64-bit limit, say) are dropped: no generated value
// reaches them. Bounds that no value satisfies: loom::Error
// (InvalidArgument). The caller adds the schema path to the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace loom::server {

struct NumberBounds {
    std::optional<double> minimum;
    std::optional<double> maximum;
    bool exclusive_minimum = false;  // minimum itself is not allowed
    bool exclusive_maximum = false;
};

// Integers within the bounds (a GBNF expression, no trailing whitespace).
std::string integer_range_gbnf(const NumberBounds& bounds);
// Numbers within the bounds, as described above.
std::string number_range_gbnf(const NumberBounds& bounds);

}  // namespace loom::server

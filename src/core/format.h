// Small text-formatting helpers shared by the layers: human-readable sizes and counts,
// and a printable quoting of untrusted bytes for error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loom {

// "1.50 MiB", "268.10 M": binary units for bytes, decimal for counts.
std::string format_bytes(uint64_t bytes);
std::string format_count(uint64_t count);

// Quotes text for an error message: printable ASCII as is, everything else as \xNN,
// cut to max_len bytes with "..." so a hostile 1 GB key cannot flood a terminal.
std::string quote_for_message(std::string_view text, size_t max_len = 80);

}  // namespace loom

// Text-formatting helpers.
#include "core/format.h"

#include <array>
#include <cstdio>

namespace loom {

std::string format_bytes(uint64_t bytes) {
    static constexpr std::array<const char*, 5> units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < units.size()) {
        value /= 1024.0;
        ++unit;
    }
    char buf[48];
    if (unit == 0) {
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    } else {
        std::snprintf(buf, sizeof buf, "%.2f %s", value, units[unit]);
    }
    return buf;
}

std::string format_count(uint64_t count) {
    static constexpr std::array<const char*, 5> units = {"", " K", " M", " B", " T"};
    double value = static_cast<double>(count);
    size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < units.size()) {
        value /= 1000.0;
        ++unit;
    }
    char buf[48];
    if (unit == 0) {
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(count));
    } else {
        std::snprintf(buf, sizeof buf, "%.2f%s", value, units[unit]);
    }
    return buf;
}

std::string quote_for_message(std::string_view text, size_t max_len) {
    std::string out = "\"";
    size_t shown = text.size() < max_len ? text.size() : max_len;
    for (size_t i = 0; i < shown; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    out += '"';
    if (shown < text.size()) out += "...";
    return out;
}

}  // namespace loom

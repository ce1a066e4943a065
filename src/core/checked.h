// Overflow-checked unsigned arithmetic for sizes and offsets read from untrusted input.
// Each returns false instead of wrapping, so a parser can turn the overflow into an error
// naming the field. No exceptions, no allocation.
#pragma once

#include <cstdint>

namespace loom {

// out = a + b; false on overflow.
inline bool checked_add(uint64_t a, uint64_t b, uint64_t& out) noexcept {
    return !__builtin_add_overflow(a, b, &out);
}

// out = a * b; false on overflow.
inline bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) noexcept {
    return !__builtin_mul_overflow(a, b, &out);
}

// Rounds value up to a multiple of alignment (a power of two); false on overflow.
inline bool checked_align_up(uint64_t value, uint64_t alignment, uint64_t& out) noexcept {
    uint64_t bumped = 0;
    if (!checked_add(value, alignment - 1, bumped)) return false;
    out = bumped & ~(alignment - 1);
    return true;
}

inline bool is_power_of_two(uint64_t value) noexcept {
    return value != 0 && (value & (value - 1)) == 0;
}

}  // namespace loom

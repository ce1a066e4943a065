// Integer and decimal ranges -> GBNF (see schema_numbers.h).
#include "server/schema_numbers.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"

namespace loom::server {
namespace {

constexpr size_t kMaxDigits = 18;   // open ranges stop here: 10^18 - 1 < 2^63
constexpr double kMaxBound = 1e15;  // every integer below is exact in a double
constexpr double kNoBound = 1e18;   // no generated value reaches this magnitude
const char* const kFraction = "\".\" [0-9]{0,15} [1-9]";  // non-zero, no trailing zero

std::string join_alternatives(const std::vector<std::string>& alternatives) {
    if (alternatives.size() == 1) return alternatives[0];
    std::string out = "(";
    for (size_t i = 0; i < alternatives.size(); ++i) out += (i ? " | " : "") + alternatives[i];
    return out + ")";
}

std::string digit_class(char lo, char hi) {
    if (lo == hi) return std::string("\"") + lo + "\"";
    return std::string("[") + lo + "-" + hi + "]";
}

std::string any_digits(size_t n) {
    if (n == 0) return "";
    return n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}

// Digit strings of equal length from a to b (a <= b), leading zeros allowed past the
// first position of the whole number (the callers never start one with a zero).
std::string same_length(const std::string& a, const std::string& b) {
    const size_t n = a.size();
    if (n == 1) return digit_class(a[0], b[0]);
    if (a[0] == b[0]) {
        return std::string("\"") + a[0] + "\" " + same_length(a.substr(1), b.substr(1));
    }
    const std::string rest_a = a.substr(1);
    const std::string rest_b = b.substr(1);
    const bool a_rest_min = rest_a.find_first_not_of('0') == std::string::npos;
    const bool b_rest_max = rest_b.find_first_not_of('9') == std::string::npos;
    std::vector<std::string> alternatives;
    char middle_lo = a[0];
    char middle_hi = b[0];
    if (!a_rest_min) {
        alternatives.push_back(std::string("\"") + a[0] + "\" " +
                               same_length(rest_a, std::string(n - 1, '9')));
        ++middle_lo;
    }
    if (!b_rest_max) --middle_hi;
    if (middle_lo <= middle_hi) {
        alternatives.push_back(digit_class(middle_lo, middle_hi) + " " + any_digits(n - 1));
    }
    if (!b_rest_max) {
        alternatives.push_back(std::string("\"") + b[0] + "\" " +
                               same_length(std::string(n - 1, '0'), rest_b));
    }
    return join_alternatives(alternatives);
}

uint64_t power_of_ten(size_t n) {
    uint64_t v = 1;
    for (size_t i = 0; i < n; ++i) v *= 10;
    return v;
}

// Decimal integers in [lo, hi] (hi open: up to kMaxDigits digits) without leading zeros;
// "" when the range is empty.
std::string unsigned_range(uint64_t lo, std::optional<uint64_t> hi) {
    if (hi && lo > *hi) return "";
    const size_t len_lo = std::to_string(lo).size();
    const size_t len_hi = hi ? std::to_string(*hi).size() : kMaxDigits;
    std::vector<std::string> alternatives;
    for (size_t len = len_lo; len <= len_hi; ++len) {
        if (!hi && len > len_lo) {
            // Every longer number, up to the digit limit, in one go.
            alternatives.push_back("[1-9] [0-9]{" + std::to_string(len_lo) + "," +
                                   std::to_string(kMaxDigits - 1) + "}");
            break;
        }
        const uint64_t a = len == len_lo ? lo : power_of_ten(len - 1);
        const uint64_t b = hi && len == len_hi ? *hi : power_of_ten(len) - 1;
        if (a > b) continue;
        alternatives.push_back(same_length(std::to_string(a), std::to_string(b)));
    }
    return alternatives.empty() ? "" : join_alternatives(alternatives);
}

double checked_bound(double value, const char* name) {
    if (!std::isfinite(value) || std::fabs(value) > kMaxBound) {
        throw Error(ErrorCode::Unsupported, std::string(name) + " " + std::to_string(value) +
                                                " is outside the supported range of +-1e15");
    }
    return value;
}

// Bounds beyond every value the grammar can produce (e.g. a 64-bit maximum) constrain
// nothing: dropped, so that they need not be representable.
NumberBounds effective(NumberBounds b) {
    if (b.maximum && *b.maximum >= kNoBound) b.maximum.reset();
    if (b.minimum && *b.minimum <= -kNoBound) b.minimum.reset();
    return b;
}

// The integer bounds implied by the (possibly fractional, possibly exclusive) bounds.
std::pair<std::optional<int64_t>, std::optional<int64_t>> integer_bounds(const NumberBounds& b) {
    std::optional<int64_t> lo;
    std::optional<int64_t> hi;
    if (b.minimum) {
        const double m = checked_bound(*b.minimum, "minimum");
        lo = static_cast<int64_t>(std::ceil(m));
        if (b.exclusive_minimum && std::ceil(m) == m) ++*lo;
    }
    if (b.maximum) {
        const double m = checked_bound(*b.maximum, "maximum");
        hi = static_cast<int64_t>(std::floor(m));
        if (b.exclusive_maximum && std::floor(m) == m) --*hi;
    }
    return {lo, hi};
}

// Integers in [lo, hi] as alternatives ("" when empty).
std::string integers(std::optional<int64_t> lo, std::optional<int64_t> hi) {
    if (lo && hi && *lo > *hi) return "";
    std::vector<std::string> alternatives;
    if (!hi || *hi >= 0) {
        const uint64_t u_lo = lo && *lo > 0 ? static_cast<uint64_t>(*lo) : 0;
        std::optional<uint64_t> u_hi;
        if (hi) u_hi = static_cast<uint64_t>(*hi);
        std::string part = unsigned_range(u_lo, u_hi);
        if (!part.empty()) alternatives.push_back(part);
    }
    if (!lo || *lo < 0) {
        // -m for m in [max(1, -hi), -lo]
        const uint64_t m_lo = hi && *hi < 0 ? static_cast<uint64_t>(-*hi) : 1;
        std::optional<uint64_t> m_hi;
        if (lo) m_hi = static_cast<uint64_t>(-*lo);
        std::string part = unsigned_range(m_lo, m_hi);
        if (!part.empty()) alternatives.push_back("\"-\" " + part);
    }
    return alternatives.empty() ? "" : join_alternatives(alternatives);
}

}  // namespace

std::string integer_range_gbnf(const NumberBounds& given) {
    const NumberBounds bounds = effective(given);
    auto [lo, hi] = integer_bounds(bounds);
    std::string out = integers(lo, hi);
    if (out.empty()) {
        throw Error(ErrorCode::InvalidArgument, "no integer lies within minimum and maximum");
    }
    return out;
}

std::string number_range_gbnf(const NumberBounds& given) {
    const NumberBounds bounds = effective(given);
    auto [lo, hi] = integer_bounds(bounds);
    std::vector<std::string> alternatives;
    std::string whole = integers(lo, hi);
    if (!whole.empty()) alternatives.push_back(whole);
    // n.f > n >= 0 within the bounds: n >= ceil(minimum), n + 1 <= floor(maximum).
    {
        const int64_t n_lo = std::max<int64_t>(
            0, bounds.minimum ? static_cast<int64_t>(std::ceil(*bounds.minimum)) : 0);
        std::optional<uint64_t> n_hi;
        bool empty = false;
        if (bounds.maximum) {
            const auto top = static_cast<int64_t>(std::floor(*bounds.maximum)) - 1;
            if (top < n_lo) {
                empty = true;
            } else {
                n_hi = static_cast<uint64_t>(top);
            }
        }
        if (!empty) {
            alternatives.push_back(unsigned_range(static_cast<uint64_t>(n_lo), n_hi) + " " +
                                   kFraction);
        }
    }
    // -n.f within the bounds: n >= ceil(-maximum), n + 1 <= floor(-minimum).
    {
        const int64_t n_lo = std::max<int64_t>(
            0, bounds.maximum ? static_cast<int64_t>(std::ceil(-*bounds.maximum)) : 0);
        std::optional<uint64_t> n_hi;
        bool empty = false;
        if (bounds.minimum) {
            const auto top = static_cast<int64_t>(std::floor(-*bounds.minimum)) - 1;
            if (top < n_lo) {
                empty = true;
            } else {
                n_hi = static_cast<uint64_t>(top);
            }
        }
        if (!empty) {
            alternatives.push_back("\"-\" " + unsigned_range(static_cast<uint64_t>(n_lo), n_hi) +
                                   " " + kFraction);
        }
    }
    if (alternatives.empty()) {
        throw Error(ErrorCode::InvalidArgument, "no number lies within minimum and maximum");
    }
    return join_alternatives(alternatives);
}

}  // namespace loom::server

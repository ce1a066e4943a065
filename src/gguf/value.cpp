// GGUF metadata value helpers: names, sizes, numeric conversions.
#include "gguf/value.h"

#include <array>
#include <limits>

namespace loom::gguf {

std::string_view value_type_name(ValueType type) {
    static constexpr std::array<std::string_view, kValueTypeCount> names = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array",
        "u64", "i64", "f64"};
    auto id = static_cast<uint32_t>(type);
    return id < names.size() ? names[id] : std::string_view("unknown");
}

uint32_t value_type_size(ValueType type) {
    static constexpr std::array<uint32_t, kValueTypeCount> sizes = {1, 1, 2, 2, 4, 4, 4, 1,
                                                                    0, 0, 8, 8, 8};
    auto id = static_cast<uint32_t>(type);
    return id < sizes.size() ? sizes[id] : 0;
}

bool is_integer(ValueType type) {
    switch (type) {
        case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
        case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
            return true;
        default:
            return false;
    }
}

int64_t Array::integer(uint64_t i) const {
    switch (elem_type) {
        case ValueType::U8: return fixed<uint8_t>(i);
        case ValueType::I8: return fixed<int8_t>(i);
        case ValueType::U16: return fixed<uint16_t>(i);
        case ValueType::I16: return fixed<int16_t>(i);
        case ValueType::U32: return fixed<uint32_t>(i);
        case ValueType::I32: return fixed<int32_t>(i);
        case ValueType::U64: return static_cast<int64_t>(fixed<uint64_t>(i));
        case ValueType::I64: return fixed<int64_t>(i);
        case ValueType::Bool: return fixed<uint8_t>(i);
        default: return 0;
    }
}

double Array::number(uint64_t i) const {
    switch (elem_type) {
        case ValueType::F32: return fixed<float>(i);
        case ValueType::F64: return fixed<double>(i);
        case ValueType::U64: return static_cast<double>(fixed<uint64_t>(i));
        default: return static_cast<double>(integer(i));
    }
}

bool Value::as_int64(int64_t& out) const {
    return std::visit(
        [&out](const auto& v) -> bool {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool> || !std::is_integral_v<T>) {
                return false;
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
                out = static_cast<int64_t>(v);
                return true;
            } else {
                out = static_cast<int64_t>(v);
                return true;
            }
        },
        storage_);
}

bool Value::as_double(double& out) const {
    return std::visit(
        [&out](const auto& v) -> bool {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
                return false;
            } else if constexpr (std::is_arithmetic_v<T>) {
                out = static_cast<double>(v);
                return true;
            } else {
                return false;
            }
        },
        storage_);
}

std::string Value::type_description() const {
    const Array* arr = array();
    if (arr == nullptr) return std::string(value_type_name(type()));
    std::string inner;
    if (arr->elem_type == ValueType::Array) {
        inner = arr->arrays.empty() ? "array" : arr->arrays.front().type_description();
    } else {
        inner = value_type_name(arr->elem_type);
    }
    return "array[" + inner + "]";
}

}  // namespace loom::gguf

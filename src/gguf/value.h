// GGUF metadata values: the 13 value types and a Value that holds one of them.
// Strings are views into the mapped file (zero-copy); numeric arrays are a pointer to
// their first element in the file, read with memcpy (files give no alignment for them);
// string and nested arrays keep one view or Value per element, which the file pays for
// (every element takes at least 8 bytes there). A Value never outlives its GgufFile.
// Spec: ggml docs/gguf.md, "gguf_metadata_value_type".
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace loom::gguf {

enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
    String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};

constexpr uint32_t kValueTypeCount = 13;

// "u32", "string", "array", ... as used in error messages and `loom inspect`.
std::string_view value_type_name(ValueType type);

// Bytes of one element of a fixed-size type; 0 for String and Array.
uint32_t value_type_size(ValueType type);

bool is_integer(ValueType type);

class Value;

// An array value. Exactly one of the three storages is used, by elem_type.
struct Array {
    ValueType elem_type = ValueType::U8;
    uint64_t count = 0;
    const uint8_t* data = nullptr;            // fixed-size elements, in the file
    std::vector<std::string_view> strings;    // elem_type == String
    std::vector<Value> arrays;                // elem_type == Array

    // Element i of a fixed-size numeric array, converted to T; the caller checks
    // elem_type and i < count.
    template <typename T>
    T fixed(uint64_t i) const;

    // Integer element i of an integer array, widened; the caller checks the type.
    int64_t integer(uint64_t i) const;
    // Numeric element i widened to double (any integer or float type).
    double number(uint64_t i) const;
};

// One metadata value. The variant index equals the ValueType id.
class Value {
public:
    using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float,
                                 bool, std::string_view, Array, uint64_t, int64_t, double>;

    Value() = default;
    explicit Value(Storage storage) : storage_(std::move(storage)) {}

    ValueType type() const { return static_cast<ValueType>(storage_.index()); }
    const Storage& storage() const { return storage_; }

    template <typename T>
    const T* get_if() const { return std::get_if<T>(&storage_); }

    const Array* array() const { return std::get_if<Array>(&storage_); }
    const std::string_view* string() const { return std::get_if<std::string_view>(&storage_); }

    // Any integer type as a signed 64-bit value; false for non-integers and for u64
    // values above INT64_MAX.
    bool as_int64(int64_t& out) const;
    // Any integer or float type as double; false otherwise.
    bool as_double(double& out) const;

    // "u32", "array[string]", "array[array[i32]]": the type as a reader would say it.
    std::string type_description() const;

private:
    Storage storage_;
};

// The ValueType whose variant alternative is T (T must be one of Value::Storage's).
template <typename T>
constexpr ValueType value_type_of() {
    using S = Value::Storage;
    constexpr auto n = std::variant_size_v<S>;
    ValueType result = ValueType::U8;
    [&]<size_t... I>(std::index_sequence<I...>) {
        ((std::is_same_v<T, std::variant_alternative_t<I, S>> ? (result = static_cast<ValueType>(I), 0) : 0), ...);
    }(std::make_index_sequence<n>{});
    return result;
}

template <typename T>
T Array::fixed(uint64_t i) const {
    T value;
    std::memcpy(&value, data + i * sizeof(T), sizeof(T));
    return value;
}

}  // namespace loom::gguf

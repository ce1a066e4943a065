// ByteReader: a bounds-checked little-endian cursor over untrusted bytes. Every read
// names the field it reads, so a short or hostile file fails with
//   "<source>: byte <offset>: <context>: <field>: <problem>"
// and never reads past the end. The context (which key or tensor is being read) is set
// by the caller once per record, so the hot path builds no strings.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace loom::gguf {

class ByteReader {
public:
    ByteReader(std::span<const uint8_t> bytes, std::string_view source)
        : bytes_(bytes), source_(source) {}

    uint64_t offset() const noexcept { return offset_; }
    uint64_t size() const noexcept { return bytes_.size(); }
    uint64_t remaining() const noexcept { return bytes_.size() - offset_; }

    // What is being read, for messages: "metadata key \"general.name\"", "tensor 3".
    void set_context(std::string context) { context_ = std::move(context); }
    // Element index inside an array value, or -1 for none.
    void set_element(int64_t index) noexcept { element_ = index; }

    template <typename T>
    T read(std::string_view field) {
        T value;
        std::memcpy(&value, take(sizeof(T), field), sizeof(T));
        return value;
    }

    // Returns a pointer to the next n bytes and advances; throws if fewer remain.
    const uint8_t* take(uint64_t n, std::string_view field);

    // A GGUF string: u64 length, then that many bytes. Length above max_len is an error.
    std::string_view read_string(std::string_view field, uint64_t max_len);

    // Throws loom::Error(code) at the given offset with the current context.
    [[noreturn]] void fail_at(uint64_t at, std::string_view field, const std::string& problem,
                              ErrorCode code = ErrorCode::Format) const;
    [[noreturn]] void fail(std::string_view field, const std::string& problem,
                           ErrorCode code = ErrorCode::Format) const {
        fail_at(offset_, field, problem, code);
    }

private:
    std::span<const uint8_t> bytes_;
    std::string_view source_;
    uint64_t offset_ = 0;
    std::string context_;
    int64_t element_ = -1;
};

}  // namespace loom::gguf

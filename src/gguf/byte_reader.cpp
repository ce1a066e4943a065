// ByteReader: bounds checks and error formatting.
#include "gguf/byte_reader.h"

namespace loom::gguf {

const uint8_t* ByteReader::take(uint64_t n, std::string_view field) {
    if (n > remaining()) {
        fail(field, "truncated: needs " + std::to_string(n) + " bytes, file has " +
                        std::to_string(remaining()) + " left");
    }
    const uint8_t* p = bytes_.data() + offset_;
    offset_ += n;
    return p;
}

std::string_view ByteReader::read_string(std::string_view field, uint64_t max_len) {
    uint64_t at = offset_;
    auto len = read<uint64_t>(std::string(field) + " length");
    if (len > max_len) {
        fail_at(at, std::string(field) + " length",
                "is " + std::to_string(len) + ", at most " + std::to_string(max_len) +
                    " allowed");
    }
    if (len > remaining()) {
        fail_at(at, std::string(field) + " length",
                "is " + std::to_string(len) + " but only " + std::to_string(remaining()) +
                    " bytes remain in the file");
    }
    const uint8_t* p = take(len, field);
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(len)};
}

void ByteReader::fail_at(uint64_t at, std::string_view field, const std::string& problem,
                         ErrorCode code) const {
    std::string message(source_);
    message += ": byte " + std::to_string(at) + ": ";
    if (!context_.empty()) {
        message += context_;
        if (element_ >= 0) message += " element " + std::to_string(element_);
        message += ": ";
    }
    message += field;
    message += ": ";
    message += problem;
    throw Error(code, std::move(message));
}

}  // namespace loom::gguf

// GgufFile: a GGUF file (versions 2 and 3) opened, memory-mapped and fully validated.
// Metadata strings and tensor data are zero-copy views into the mapping, valid for the
// GgufFile's lifetime (moving it keeps them valid).
//
//   auto file = loom::gguf::GgufFile::open("model.gguf");
//   uint64_t n_layer = file.get_uint("llama.block_count");
//   const TensorInfo& t = file.tensor("token_embd.weight");   // t.data: bytes in the map
//
// Validation on open (a hostile file gets loom::Error, never a crash, a hang, or an
// allocation the file size does not justify): magic, version, every length, count and
// offset bounded by the file; value and array element types; nesting depth; bool bytes;
// duplicate keys and tensor names; general.alignment (u32 power of two, at most 1 MiB);
// tensor dims, element counts and byte sizes without 64-bit overflow; tensor type ids;
// tensor offsets aligned, inside the file and not overlapping; and the well-known
// architecture and tokenizer keys (known_keys.h) unless ReadOptions says otherwise.
//
// Errors: open() and parse() throw loom::Error with ErrorCode::Io (cannot read),
// Format (malformed), Unsupported (version, tensor type) or OutOfRange (hyperparameter);
// the message names the file, the byte offset and the field. Accessors throw NotFound
// for a missing key or tensor and Format for a key of another type.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"
#include "gguf/ggml_type.h"
#include "gguf/value.h"

namespace loom::gguf {

constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxAlignment = 1u << 20;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxKeyLength = 65535;
constexpr uint64_t kMaxTensorNameLength = 63;  // ggml's GGML_MAX_NAME is 64 with the NUL
// Caps on the record counts, far above any real file (which have under 100 keys and a
// few thousand tensors): each record costs about 100 bytes of heap, so without a cap a
// file of many tiny records could make the reader allocate several times its own size.
constexpr uint64_t kMaxKeyValues = 1u << 20;
constexpr uint64_t kMaxTensors = 1u << 20;

struct ReadOptions {
    // Check the architecture hyperparameters and tokenizer arrays (known_keys.h).
    bool validate_known_keys = true;
    // Arrays of arrays nest at most this deep (an array of scalars has depth 1).
    uint32_t max_array_depth = 3;
    // Elements of nested arrays in the whole file: each costs a Value on the heap.
    uint64_t max_nested_elements = 1u << 20;
};

struct KeyValue {
    std::string_view key;
    Value value;
    uint64_t offset = 0;  // byte offset of the record in the file
};

struct TensorInfo {
    std::string_view name;
    uint32_t n_dims = 0;
    std::array<uint64_t, kMaxDims> ne{1, 1, 1, 1};  // GGUF order: ne[0] is contiguous
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0;      // relative to the start of the data section
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    uint64_t info_offset = 0;  // byte offset of the tensor-info record in the file
    std::span<const uint8_t> data;  // view into the file

    std::string shape_string() const;  // "[64, 512]"
};

class GgufFile {
public:
    // Maps and validates the file at path.
    static GgufFile open(const std::filesystem::path& path, const ReadOptions& options = {});
    // Validates bytes already in memory; the caller keeps them alive. For tests/fuzzing.
    static GgufFile parse(std::span<const uint8_t> bytes, std::string source,
                          const ReadOptions& options = {});

    const std::string& source() const { return source_; }
    std::span<const uint8_t> bytes() const { return bytes_; }
    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }

    const std::vector<KeyValue>& metadata() const { return metadata_; }
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Strict accessors: the stored type must be exactly T (uint32_t, int32_t, float,
    // bool, std::string_view, ...).
    template <typename T>
    T get(std::string_view key) const;
    // Lenient accessors: any integer type, range-checked (real files store some counts
    // as u32 and others as u64 or i32).
    uint64_t get_uint(std::string_view key) const;
    std::optional<uint64_t> find_uint(std::string_view key) const;
    // f32 or f64.
    double get_float(std::string_view key) const;
    std::optional<double> find_float(std::string_view key) const;
    std::optional<std::string_view> find_string(std::string_view key) const;
    // An array whose elements are of type elem.
    const Array& get_array(std::string_view key, ValueType elem) const;

    // general.architecture, or empty when absent.
    std::string_view architecture() const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;
    const TensorInfo& tensor(std::string_view name) const;

    // "<source>: key <key>: <problem>" as a loom::Error of the given code.
    [[noreturn]] void fail_key(std::string_view key, const std::string& problem,
                               ErrorCode code = ErrorCode::Format) const;

private:
    friend class Parser;
    GgufFile() = default;

    std::unique_ptr<MappedFile> mapping_;  // null when parsing caller-owned bytes
    std::span<const uint8_t> bytes_;
    std::string source_;
    uint32_t version_ = 0;
    uint32_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<KeyValue> metadata_;
    std::unordered_map<std::string_view, size_t> key_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace loom::gguf

// GgufWriter: builds a GGUF v3 file: metadata in insertion order, then tensor infos,
// then the tensor data, each tensor at the next multiple of the alignment with zero
// padding (the layout llama.cpp and gguf-py write). Reading a file and writing back its
// metadata and tensors in order reproduces it byte for byte.
//
//   GgufWriter w;
//   w.add("general.architecture", std::string_view("llama"));
//   w.add("llama.block_count", uint32_t{2});
//   w.add_tensor("token_embd.weight", GgmlType::F32, {64, 512}, bytes);  // copied
//   w.write_file("out.gguf");
//
// Streaming: add_tensor_deferred records a tensor's name, type and shape and a producer
// that fills its bytes when the file is written, one tensor at a time, so a converter
// holds one tensor in memory rather than all of them (`loom quantize`). The producer runs
// once per to_bytes / write_file, in tensor order, on the calling thread; an exception
// from it ends the write (write_file then removes its temporary file) and propagates.
//
// Errors (loom::Error): a duplicate key or tensor name, an invalid key or name, a
// general.alignment that is not a u32 power of two, data whose size does not match
// type and shape (InvalidArgument); a file that cannot be written (Io). write_file
// writes to a temporary file (PATH.<pid>.tmp) and renames it, so a failure never leaves a
// half file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf_file.h"
#include "gguf/value.h"

namespace loom::gguf {

class GgufWriter {
public:
    // Scalars: uint8_t ... double, bool, and strings.
    template <typename T>
    void add(std::string_view key, T value);
    void add(std::string_view key, std::string_view value);
    void add(std::string_view key, const char* value) { add(key, std::string_view(value)); }

    // Arrays of scalars and of strings.
    template <typename T>
    void add_array(std::string_view key, std::span<const T> values);
    void add_array(std::string_view key, std::span<const std::string> values);
    void add_array(std::string_view key, std::span<const std::string_view> values);

    // Any value read from a file (deep copy), for rewriting a file.
    void add_value(std::string_view key, const Value& value);

    // Copies data, which must hold exactly the bytes type and shape require.
    void add_tensor(std::string_view name, GgmlType type, std::span<const uint64_t> shape,
                    std::span<const uint8_t> data);
    void add_tensor(std::string_view name, GgmlType type, std::initializer_list<uint64_t> shape,
                    std::span<const uint8_t> data) {
        add_tensor(name, type, std::span<const uint64_t>(shape.begin(), shape.size()), data);
    }

    // Fills exactly the bytes type and shape require, at write time.
    using TensorProducer = std::function<void(std::span<uint8_t> out)>;
    void add_tensor_deferred(std::string_view name, GgmlType type, std::span<const uint64_t> shape,
                             TensorProducer producer);

    uint32_t alignment() const { return alignment_; }

    // The whole file in memory.
    std::vector<uint8_t> to_bytes() const;
    // Atomically (temporary file + rename) writes the file.
    void write_file(const std::filesystem::path& path) const;

    // A writer holding every key and tensor of file, in file order.
    static GgufWriter copy_of(const GgufFile& file);

private:
    struct Tensor {
        std::string name;
        GgmlType type;
        std::vector<uint64_t> shape;
        uint64_t n_bytes = 0;
        std::vector<uint8_t> data;   // empty when producer is set
        TensorProducer producer;     // deferred tensors only
    };

    // Validates name (new, valid), type and shape; returns the tensor's byte size.
    uint64_t check_new_tensor(std::string_view name, GgmlType type,
                              std::span<const uint64_t> shape);

    using Sink = std::function<void(const void*, size_t)>;
    void emit(const Sink& sink) const;
    void begin_key(std::string_view key, ValueType type);
    void encode_value(const Value& value);
    void encode_array_header(ValueType elem, uint64_t count);
    void put_string(std::string_view s);
    template <typename T>
    void put(T v);

    std::vector<uint8_t> kv_bytes_;
    uint64_t kv_count_ = 0;
    std::unordered_set<std::string> keys_;
    std::vector<Tensor> tensors_;
    std::unordered_set<std::string> tensor_names_;
    uint32_t alignment_ = kDefaultAlignment;
};

}  // namespace loom::gguf

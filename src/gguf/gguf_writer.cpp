// GGUF writer: serializes metadata as it is added, lays tensors out at aligned offsets.
#include "gguf/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/checked.h"
#include "core/error.h"
#include "core/format.h"

namespace loom::gguf {
namespace {

Error invalid(std::string message) { return Error(ErrorCode::InvalidArgument, std::move(message)); }

}  // namespace

template <typename T>
void GgufWriter::put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    kv_bytes_.insert(kv_bytes_.end(), p, p + sizeof(T));
}

void GgufWriter::put_string(std::string_view s) {
    put<uint64_t>(s.size());
    kv_bytes_.insert(kv_bytes_.end(), s.begin(), s.end());
}

void GgufWriter::begin_key(std::string_view key, ValueType type) {
    if (key.empty() || key.size() > kMaxKeyLength) {
        throw invalid("gguf writer: key " + quote_for_message(key) + ": length must be 1.." +
                      std::to_string(kMaxKeyLength));
    }
    for (char c : key) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            throw invalid("gguf writer: key " + quote_for_message(key) +
                          ": only printable ASCII is allowed");
        }
    }
    if (!keys_.emplace(key).second) {
        throw invalid("gguf writer: duplicate key " + std::string(key));
    }
    if (key == "general.alignment" && type != ValueType::U32) {
        throw invalid("gguf writer: key general.alignment: expected u32, got " +
                      std::string(value_type_name(type)));
    }
    put_string(key);
    put<uint32_t>(static_cast<uint32_t>(type));
    ++kv_count_;
}

template <typename T>
void GgufWriter::add(std::string_view key, T value) {
    if constexpr (std::is_same_v<T, uint32_t>) {
        if (key == "general.alignment") {
            if (!is_power_of_two(value) || value > kMaxAlignment) {
                throw invalid("gguf writer: general.alignment " + std::to_string(value) +
                              " must be a power of two no larger than " +
                              std::to_string(kMaxAlignment));
            }
            alignment_ = value;
        }
    }
    begin_key(key, value_type_of<T>());
    if constexpr (std::is_same_v<T, bool>) {
        put<uint8_t>(value ? 1 : 0);
    } else {
        put<T>(value);
    }
}

void GgufWriter::add(std::string_view key, std::string_view value) {
    begin_key(key, ValueType::String);
    put_string(value);
}

void GgufWriter::encode_array_header(ValueType elem, uint64_t count) {
    put<uint32_t>(static_cast<uint32_t>(elem));
    put<uint64_t>(count);
}

template <typename T>
void GgufWriter::add_array(std::string_view key, std::span<const T> values) {
    begin_key(key, ValueType::Array);
    encode_array_header(value_type_of<T>(), values.size());
    for (const T& v : values) {
        if constexpr (std::is_same_v<T, bool>) {
            put<uint8_t>(v ? 1 : 0);
        } else {
            put<T>(v);
        }
    }
}

void GgufWriter::add_array(std::string_view key, std::span<const std::string> values) {
    begin_key(key, ValueType::Array);
    encode_array_header(ValueType::String, values.size());
    for (const auto& v : values) put_string(v);
}

void GgufWriter::add_array(std::string_view key, std::span<const std::string_view> values) {
    begin_key(key, ValueType::Array);
    encode_array_header(ValueType::String, values.size());
    for (auto v : values) put_string(v);
}

void GgufWriter::encode_value(const Value& value) {
    std::visit(
        [this](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string_view>) {
                put_string(v);
            } else if constexpr (std::is_same_v<T, Array>) {
                encode_array_header(v.elem_type, v.count);
                if (v.elem_type == ValueType::String) {
                    for (auto s : v.strings) put_string(s);
                } else if (v.elem_type == ValueType::Array) {
                    for (const Value& inner : v.arrays) encode_value(inner);
                } else {
                    kv_bytes_.insert(kv_bytes_.end(), v.data,
                                     v.data + v.count * value_type_size(v.elem_type));
                }
            } else if constexpr (std::is_same_v<T, bool>) {
                put<uint8_t>(v ? 1 : 0);
            } else {
                put<T>(v);
            }
        },
        value.storage());
}

void GgufWriter::add_value(std::string_view key, const Value& value) {
    if (key == "general.alignment") {
        if (const auto* a = value.get_if<uint32_t>()) {
            add(key, *a);
            return;
        }
    }
    begin_key(key, value.type());
    encode_value(value);
}

uint64_t GgufWriter::check_new_tensor(std::string_view name, GgmlType type,
                                      std::span<const uint64_t> shape) {
    std::string where = "gguf writer: tensor " + quote_for_message(name);
    if (name.empty() || name.size() > kMaxTensorNameLength) {
        throw invalid(where + ": name length must be 1.." + std::to_string(kMaxTensorNameLength));
    }
    if (shape.size() > kMaxDims) {
        throw invalid(where + ": " + std::to_string(shape.size()) + " dimensions, at most " +
                      std::to_string(kMaxDims));
    }
    const GgmlTypeTraits& t = traits(type);
    uint64_t n_elements = 1;
    for (uint64_t d : shape) {
        if (!checked_mul(n_elements, d, n_elements)) throw invalid(where + ": shape overflows");
    }
    if (!shape.empty() && shape[0] % t.block_size != 0) {
        throw invalid(where + ": ne[0] " + std::to_string(shape[0]) +
                      " is not a multiple of the block size " + std::to_string(t.block_size));
    }
    uint64_t n_bytes = 0;
    if (!checked_mul(n_elements / t.block_size, t.block_bytes, n_bytes)) {
        throw invalid(where + ": byte size overflows");
    }
    if (tensor_names_.count(std::string(name)) != 0) {
        throw invalid(where + ": duplicate tensor name");
    }
    return n_bytes;
}

void GgufWriter::add_tensor(std::string_view name, GgmlType type, std::span<const uint64_t> shape,
                            std::span<const uint8_t> data) {
    const uint64_t n_bytes = check_new_tensor(name, type, shape);
    if (n_bytes != data.size()) {
        throw invalid("gguf writer: tensor " + quote_for_message(name) + ": data has " +
                      std::to_string(data.size()) + " bytes, " + std::string(traits(type).name) +
                      " of this shape needs " + std::to_string(n_bytes));
    }
    tensor_names_.emplace(name);
    tensors_.push_back(Tensor{std::string(name), type, {shape.begin(), shape.end()}, n_bytes,
                              {data.begin(), data.end()}, nullptr});
}

void GgufWriter::add_tensor_deferred(std::string_view name, GgmlType type,
                                     std::span<const uint64_t> shape, TensorProducer producer) {
    const uint64_t n_bytes = check_new_tensor(name, type, shape);
    if (!producer) {
        throw invalid("gguf writer: tensor " + quote_for_message(name) + ": no producer");
    }
    tensor_names_.emplace(name);
    tensors_.push_back(Tensor{std::string(name), type, {shape.begin(), shape.end()}, n_bytes, {},
                              std::move(producer)});
}

void GgufWriter::emit(const Sink& sink) const {
    static constexpr uint8_t zeros[kMaxAlignment > 4096 ? 4096 : kMaxAlignment] = {};
    uint64_t written = 0;
    auto put_raw = [&](const void* p, size_t n) {
        sink(p, n);
        written += n;
    };
    auto put_u32 = [&](uint32_t v) { put_raw(&v, 4); };
    auto put_u64 = [&](uint64_t v) { put_raw(&v, 8); };
    auto pad = [&] {
        uint64_t n = (alignment_ - written % alignment_) % alignment_;
        while (n > 0) {
            size_t chunk = n < sizeof zeros ? static_cast<size_t>(n) : sizeof zeros;
            put_raw(zeros, chunk);
            n -= chunk;
        }
    };

    put_raw("GGUF", 4);
    put_u32(3);
    put_u64(tensors_.size());
    put_u64(kv_count_);
    put_raw(kv_bytes_.data(), kv_bytes_.size());
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        put_u64(t.name.size());
        put_raw(t.name.data(), t.name.size());
        put_u32(static_cast<uint32_t>(t.shape.size()));
        for (uint64_t d : t.shape) put_u64(d);
        put_u32(static_cast<uint32_t>(t.type));
        put_u64(offset);
        offset += (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
    }
    if (!tensors_.empty()) pad();
    std::vector<uint8_t> produced;  // one deferred tensor at a time, reused
    for (const Tensor& t : tensors_) {
        if (t.producer) {
            produced.resize(static_cast<size_t>(t.n_bytes));
            t.producer(std::span<uint8_t>(produced));
            put_raw(produced.data(), produced.size());
        } else {
            put_raw(t.data.data(), t.data.size());
        }
        pad();
    }
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    std::vector<uint8_t> out;
    emit([&out](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        out.insert(out.end(), b, b + n);
    });
    return out;
}

void GgufWriter::write_file(const std::filesystem::path& path) const {
    // The process id keeps two concurrent writers of one path from sharing (and truncating)
    // one temporary file: each writes its own whole file and the last rename wins.
    std::filesystem::path tmp = path;
    tmp += "." + std::to_string(::getpid()) + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw Error(ErrorCode::Io, path.string() + ": cannot create the temporary file " +
                                           tmp.filename().string() + ": " + std::strerror(errno));
        }
        try {
            emit([&out, &tmp](const void* p, size_t n) {
                out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
                // Stop at the first failed write: a streamed file may take minutes to produce.
                if (!out) throw Error(ErrorCode::Io, tmp.string() + ": write failed (disk full?)");
            });
        } catch (...) {
            // A write or a deferred tensor's producer failed: leave no half file behind.
            out.close();
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            throw;
        }
        out.flush();
        if (!out) {
            out.close();
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            throw Error(ErrorCode::Io, tmp.string() + ": write failed (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw Error(ErrorCode::Io,
                    path.string() + ": cannot rename temporary file: " + ec.message());
    }
}

GgufWriter GgufWriter::copy_of(const GgufFile& file) {
    GgufWriter w;
    for (const KeyValue& kv : file.metadata()) w.add_value(kv.key, kv.value);
    for (const TensorInfo& t : file.tensors()) {
        w.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims), t.data);
    }
    return w;
}

#define LOOM_INSTANTIATE(T)                                              \
    template void GgufWriter::add<T>(std::string_view, T);              \
    template void GgufWriter::add_array<T>(std::string_view, std::span<const T>);
LOOM_INSTANTIATE(uint8_t)
LOOM_INSTANTIATE(int8_t)
LOOM_INSTANTIATE(uint16_t)
LOOM_INSTANTIATE(int16_t)
LOOM_INSTANTIATE(uint32_t)
LOOM_INSTANTIATE(int32_t)
LOOM_INSTANTIATE(float)
LOOM_INSTANTIATE(bool)
LOOM_INSTANTIATE(uint64_t)
LOOM_INSTANTIATE(int64_t)
LOOM_INSTANTIATE(double)
#undef LOOM_INSTANTIATE

}  // namespace loom::gguf

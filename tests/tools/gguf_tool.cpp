// gguf_tool: a test-only driver of Loom's GGUF layer for the pytest suites, which compare
// what it writes and prints with gguf-py and llama.cpp.
//
//   gguf_tool copy IN OUT             GgufWriter::copy_of(GgufFile::open(IN)) written to OUT
//   gguf_tool types                   the ggml type table as a JSON array
//   gguf_tool file-types              the general.file_type names Loom knows, as JSON
//   gguf_tool synth OUT               a file of every value type, edge value and tensor type;
//                                     prints a JSON description of what it wrote
//   gguf_tool randomize IN OUT SEED   IN's metadata and tensor shapes, F32 tensors refilled
//                                     with seeded normal values * 0.02 (norms set to 1.0)
//
// JSON is written by hand (no JSON library). In the synth description floats are given as
// their IEEE bit patterns (u32 for f32, u64 for f64) so that -0.0, infinities and NaN
// payloads compare exactly. Exit status: 0 success, 1 a loom::Error, 2 bad usage.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/value.h"

namespace {

using loom::gguf::Array;
using loom::gguf::GgmlType;
using loom::gguf::GgmlTypeTraits;
using loom::gguf::GgufFile;
using loom::gguf::GgufWriter;
using loom::gguf::Value;
using loom::gguf::ValueType;
using loom::gguf::value_type_of;

constexpr int kExitUsage = 2;

// ---- JSON output ---------------------------------------------------------------------

// A JSON string literal; UTF-8 passes through, control characters are escaped.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        out += items[i];
    }
    return out;
}

// A scalar as the synth description shows it: integers and bools as JSON, floats as bits.
template <typename T>
std::string scalar_json(T v) {
    if constexpr (std::is_same_v<T, bool>) {
        return v ? "true" : "false";
    } else if constexpr (std::is_same_v<T, float>) {
        return std::to_string(std::bit_cast<uint32_t>(v));
    } else if constexpr (std::is_same_v<T, double>) {
        return std::to_string(std::bit_cast<uint64_t>(v));
    } else {
        return std::to_string(v);
    }
}

std::string hex(std::span<const uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// ---- deterministic data ----------------------------------------------------------------

struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform in [-2, 2).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1p-51 - 2.0; }
};

template <typename T>
void append(std::vector<uint8_t>& out, T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

// n_bytes of pseudo-random tensor data; float types get finite values.
std::vector<uint8_t> tensor_data(GgmlType type, uint64_t n_elements, uint64_t n_bytes,
                                 uint64_t seed) {
    SplitMix64 rng{seed};
    std::vector<uint8_t> out;
    out.reserve(n_bytes);
    switch (type) {
        case GgmlType::F32:
            for (uint64_t i = 0; i < n_elements; ++i) {
                append(out, static_cast<float>(rng.uniform()));
            }
            break;
        case GgmlType::F64:
            for (uint64_t i = 0; i < n_elements; ++i) append(out, rng.uniform());
            break;
        case GgmlType::F16:
            // Exponent field below 31 (bit 14 clear): never inf or NaN.
            for (uint64_t i = 0; i < n_elements; ++i) {
                append(out, static_cast<uint16_t>(rng.next() & 0xbfffu));
            }
            break;
        case GgmlType::BF16:
            for (uint64_t i = 0; i < n_elements; ++i) {
                auto bits = std::bit_cast<uint32_t>(static_cast<float>(rng.uniform()));
                append(out, static_cast<uint16_t>(bits >> 16));
            }
            break;
        default:
            while (out.size() < n_bytes) out.push_back(static_cast<uint8_t>(rng.next() >> 56));
            break;
    }
    return out;
}

// ---- synth -------------------------------------------------------------------------------

// A GgufWriter that also records, as JSON, every key and tensor it was given.
class Synth {
public:
    template <typename T>
    void scalar(const std::string& key, T v) {
        writer_.add(key, v);
        entry(key, value_type_of<T>(), scalar_json(v));
    }

    void string(const std::string& key, std::string_view v) {
        writer_.add(key, v);
        entry(key, ValueType::String, json_string(v));
    }

    template <typename T>
    void array(const std::string& key, const std::vector<T>& values) {
        writer_.add_array(key, std::span<const T>(values));
        std::vector<std::string> items;
        for (const T& v : values) items.push_back(scalar_json(v));
        entry(key, ValueType::Array, array_json(value_type_of<T>(), items));
    }

    // std::vector<bool> has no data(): bools go through a byte-sized copy.
    void bool_array(const std::string& key, const std::vector<bool>& values) {
        std::unique_ptr<bool[]> copy(new bool[values.size()]);
        std::vector<std::string> items;
        for (size_t i = 0; i < values.size(); ++i) {
            copy[i] = values[i];
            items.push_back(values[i] ? "true" : "false");
        }
        writer_.add_array(key, std::span<const bool>(copy.get(), values.size()));
        entry(key, ValueType::Array, array_json(ValueType::Bool, items));
    }

    void string_array(const std::string& key, const std::vector<std::string>& values) {
        writer_.add_array(key, std::span<const std::string>(values));
        std::vector<std::string> items;
        for (const auto& v : values) items.push_back(json_string(v));
        entry(key, ValueType::Array, array_json(ValueType::String, items));
    }

    // An array of arrays of i32, written through add_value (the writer's only way in).
    void nested_i32(const std::string& key, const std::vector<std::vector<int32_t>>& values) {
        Array outer;
        outer.elem_type = ValueType::Array;
        outer.count = values.size();
        std::vector<std::string> outer_items;
        for (const auto& inner_values : values) {
            Array inner;
            inner.elem_type = ValueType::I32;
            inner.count = inner_values.size();
            inner.data = reinterpret_cast<const uint8_t*>(inner_values.data());
            outer.arrays.emplace_back(Value::Storage(std::move(inner)));
            std::vector<std::string> items;
            for (int32_t v : inner_values) items.push_back(scalar_json(v));
            outer_items.push_back(array_json(ValueType::I32, items));
        }
        writer_.add_value(key, Value(Value::Storage(std::move(outer))));
        entry(key, ValueType::Array, array_json(ValueType::Array, outer_items));
    }

    void tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& shape,
                uint64_t seed) {
        const GgmlTypeTraits& t = loom::gguf::traits(type);
        uint64_t n_elements = 1;
        for (uint64_t d : shape) n_elements *= d;
        uint64_t n_bytes = n_elements / t.block_size * t.block_bytes;
        std::vector<uint8_t> data = tensor_data(type, n_elements, n_bytes, seed);
        writer_.add_tensor(name, type, std::span<const uint64_t>(shape), data);
        std::vector<std::string> dims;
        for (uint64_t d : shape) dims.push_back(std::to_string(d));
        tensors_.push_back("{\"name\": " + json_string(name) +
                           ", \"type_id\": " + std::to_string(static_cast<uint32_t>(type)) +
                           ", \"type\": " + json_string(t.name) + ", \"shape\": [" + join(dims) +
                           "], \"n_elements\": " + std::to_string(n_elements) +
                           ", \"n_bytes\": " + std::to_string(n_bytes) + ", \"data_hex\": \"" +
                           hex(data) + "\"}");
    }

    const GgufWriter& writer() const { return writer_; }

    std::string description() const {
        std::string out = "{\"alignment\": " + std::to_string(writer_.alignment()) +
                          ",\n \"metadata\": [\n  ";
        for (size_t i = 0; i < metadata_.size(); ++i) out += (i ? ",\n  " : "") + metadata_[i];
        out += "\n ],\n \"tensors\": [\n  ";
        for (size_t i = 0; i < tensors_.size(); ++i) out += (i ? ",\n  " : "") + tensors_[i];
        return out + "\n ]\n}\n";
    }

private:
    static std::string array_json(ValueType elem, const std::vector<std::string>& items) {
        return "{\"elem\": " + std::to_string(static_cast<uint32_t>(elem)) + ", \"items\": [" +
               join(items) + "]}";
    }

    void entry(const std::string& key, ValueType type, const std::string& value) {
        metadata_.push_back("{\"key\": " + json_string(key) + ", \"type\": " +
                            std::to_string(static_cast<uint32_t>(type)) + ", \"value\": " + value +
                            "}");
    }

    GgufWriter writer_;
    std::vector<std::string> metadata_;
    std::vector<std::string> tensors_;
};

template <typename T>
void int_edges(Synth& s, const std::string& name) {
    s.scalar("synth." + name + ".min", std::numeric_limits<T>::min());
    s.scalar("synth." + name + ".max", std::numeric_limits<T>::max());
    s.scalar("synth." + name + ".one", T{1});
    s.array<T>("synth.array." + name,
               {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T{0}, T{1}, T{7}});
}

template <typename T>
void float_edges(Synth& s, const std::string& name) {
    using L = std::numeric_limits<T>;
    const std::vector<T> values = {T(-0.0),      T(0.0),   L::infinity(), -L::infinity(),
                                   L::max(),     L::lowest(), L::min(),   L::denorm_min(),
                                   L::epsilon(), T(1e-5),  T(-3.25),      L::quiet_NaN()};
    const char* labels[] = {"neg_zero", "zero",    "inf",   "neg_inf", "max", "lowest",
                            "min_normal", "denorm_min", "epsilon", "small", "neg", "nan"};
    for (size_t i = 0; i < values.size(); ++i) {
        s.scalar("synth." + name + "." + labels[i], values[i]);
    }
    s.array<T>("synth.array." + name, values);
}

int synth(const std::string& out_path) {
    Synth s;
    s.string("general.name", "synth");
    int_edges<uint8_t>(s, "u8");
    int_edges<int8_t>(s, "i8");
    int_edges<uint16_t>(s, "u16");
    int_edges<int16_t>(s, "i16");
    // Not the first key: the alignment applies wherever it is.
    s.scalar("general.alignment", uint32_t{64});
    int_edges<uint32_t>(s, "u32");
    int_edges<int32_t>(s, "i32");
    int_edges<uint64_t>(s, "u64");
    int_edges<int64_t>(s, "i64");
    float_edges<float>(s, "f32");
    float_edges<double>(s, "f64");
    s.scalar("synth.bool.true", true);
    s.scalar("synth.bool.false", false);
    s.bool_array("synth.array.bool", {true, false, false, true});

    s.string("synth.string.empty", "");
    s.string("synth.string.utf8", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac "
                                  "\xf0\x9f\xa6\x99");
    s.string("synth.string.escapes", "tab\there\nnewline \"quoted\" back\\slash");
    s.string("synth.string.nul", std::string_view("a\0b", 3));
    s.string_array("synth.array.string", {"", "a", "h\xc3\xa9llo", "\xf0\x9f\xa6\x99",
                                          "with space", std::string(300, 'x')});

    // Longer than `loom inspect --json` shows whole (16 elements).
    std::vector<int32_t> long_i32;
    for (int32_t i = 0; i < 100; ++i) long_i32.push_back(i * i - 50);
    s.array("synth.array.long_i32", long_i32);
    std::vector<std::string> long_strings;
    for (int i = 0; i < 40; ++i) long_strings.push_back("tok" + std::to_string(i));
    s.string_array("synth.array.long_string", long_strings);
    s.array("synth.array.empty_u32", std::vector<uint32_t>{});
    s.nested_i32("synth.array.nested_i32",
                 {{1, 2, 3}, {-4}, {}, {std::numeric_limits<int32_t>::min(),
                                        std::numeric_limits<int32_t>::max()}});

    // One tensor of every type, 1-D to 4-D in turn. Not Q8_1: ggml uses it only for
    // activations (no file carries it) and gguf-py's size for it is wrong (40 bytes a
    // block, ggml's block_q8_1 is 36), so gguf-py could not read the file back.
    uint64_t index = 0;
    for (const GgmlTypeTraits& t : loom::gguf::ggml_types()) {
        if (t.type == GgmlType::Q8_1) continue;
        uint64_t bs = t.block_size;
        std::vector<std::vector<uint64_t>> shapes = {
            {bs * 3}, {bs * 2, 3}, {bs, 2, 3}, {bs, 2, 1, 2}};
        s.tensor("synth." + std::string(t.name), t.type, shapes[index % 4], 1000 + index);
        ++index;
    }
    // Sizes that do not fill the 64-byte alignment, and a single element.
    s.tensor("synth.f32_odd", GgmlType::F32, {37}, 7);
    s.tensor("synth.f32_one", GgmlType::F32, {1}, 8);
    s.tensor("synth.i32_3d", GgmlType::I32, {5, 3, 2}, 9);
    s.tensor("synth.q8_0_4d", GgmlType::Q8_0, {64, 3, 2, 2}, 10);

    s.writer().write_file(out_path);
    std::cout << s.description();
    return 0;
}

// ---- copy, types, randomize ------------------------------------------------------------

int copy(const std::string& in, const std::string& out) {
    GgufWriter::copy_of(GgufFile::open(in)).write_file(out);
    return 0;
}

int types() {
    std::vector<std::string> rows;
    for (const GgmlTypeTraits& t : loom::gguf::ggml_types()) {
        rows.push_back("{\"id\": " + std::to_string(static_cast<uint32_t>(t.type)) +
                       ", \"name\": " + json_string(t.name) +
                       ", \"block_size\": " + std::to_string(t.block_size) +
                       ", \"block_bytes\": " + std::to_string(t.block_bytes) +
                       ", \"quantized\": " + (t.quantized ? "true" : "false") + "}");
    }
    std::cout << "[\n  ";
    for (size_t i = 0; i < rows.size(); ++i) std::cout << (i ? ",\n  " : "") << rows[i];
    std::cout << "\n]\n";
    return 0;
}

int file_types() {
    std::vector<std::string> rows;
    for (uint32_t id = 0; id < 1100; ++id) {
        std::string_view name = loom::gguf::file_type_name(id);
        if (name.empty()) continue;
        rows.push_back("{\"id\": " + std::to_string(id) + ", \"name\": " + json_string(name) +
                       "}");
    }
    std::cout << "[\n  " << join(rows) << "\n]\n";
    return 0;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int randomize(const std::string& in, const std::string& out, uint64_t seed) {
    GgufFile file = GgufFile::open(in);
    GgufWriter w;
    for (const auto& kv : file.metadata()) w.add_value(kv.key, kv.value);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const auto& t : file.tensors()) {
        std::span<const uint64_t> shape(t.ne.data(), t.n_dims);
        if (t.type != GgmlType::F32) {
            w.add_tensor(t.name, t.type, shape, t.data);
            continue;
        }
        bool norm = ends_with(t.name, "_norm.weight");
        std::vector<uint8_t> data;
        data.reserve(t.n_bytes);
        for (uint64_t i = 0; i < t.n_elements; ++i) {
            append(data, norm ? 1.0f : normal(rng) * 0.02f);
        }
        w.add_tensor(t.name, t.type, shape, data);
    }
    w.write_file(out);
    return 0;
}

int usage() {
    std::cerr << "usage: gguf_tool copy IN OUT | types | file-types | synth OUT | "
                 "randomize IN OUT SEED\n";
    return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage();
    try {
        const std::string& cmd = args[0];
        if (cmd == "copy" && args.size() == 3) return copy(args[1], args[2]);
        if (cmd == "types" && args.size() == 1) return types();
        if (cmd == "file-types" && args.size() == 1) return file_types();
        if (cmd == "synth" && args.size() == 2) return synth(args[1]);
        if (cmd == "randomize" && args.size() == 4) {
            return randomize(args[1], args[2], std::stoull(args[3]));
        }
        return usage();
    } catch (const loom::Error& e) {
        std::cerr << "gguf_tool: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "gguf_tool: " << e.what() << "\n";
        return 1;
    }
}

// Truncation sweep of the GGUF reader: prefixes of valid files must be rejected with a
// loom::Error (Format, naming a byte offset inside the prefix), never a crash or another
// exception, until the prefix holds everything the file needs; from there on (only
// padding is missing, or nothing) they must parse. Files: a writer-made file with every
// value type, nested and string arrays and several tensor types at alignment 64 (every
// prefix); stories260K (every prefix of header and tensor infos, 200 cuts in the tensor
// data); the vocabulary-only fixtures (tensorless, so a prefix that ends right after the
// last key-value record is a legitimate file; megabytes long, so cut at about 4,200
// chosen lengths each, see header_cuts). The point where parsing must start to succeed
// is computed by a small independent walker, not by the reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "test_util.h"

namespace loom::test {
namespace {

using gguf::GgmlType;
using gguf::GgufFile;
using gguf::GgufWriter;

// Regions at most this long are cut at every byte; longer ones (the vocabulary files,
// megabytes of strings, where each deep cut costs a full parse) at a chosen subset.
constexpr uint64_t kDenseLimit = 64 * 1024;
constexpr uint64_t kDenseHead = 4096;
constexpr uint64_t kEvenCuts = 32;
constexpr uint64_t kDataCuts = 200;

// Walks a valid GGUF's header, metadata and tensor infos without the reader, recording
// where each record, value and array element starts. Throws std::out_of_range on bytes
// it cannot walk (it is only given valid files).
class Walker {
public:
    explicit Walker(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    // Returns the offset just past the last tensor info (the last KV record when there
    // are no tensors).
    uint64_t walk() {
        skip(8);  // magic, version
        auto n_tensors = get<uint64_t>();
        auto n_kv = get<uint64_t>();
        for (uint64_t i = 0; i < n_kv; ++i) {
            mark();
            skip(get<uint64_t>());  // key
            mark();
            auto type = get<uint32_t>();
            mark();
            skip_value(type);
        }
        for (uint64_t i = 0; i < n_tensors; ++i) {
            mark();
            skip(get<uint64_t>());  // name
            mark();
            auto n_dims = get<uint32_t>();
            skip(8ull * n_dims);
            mark();
            skip(4 + 8);  // type, offset
        }
        mark();
        return pos_;
    }

    // Offsets where a record, value, or one of the first or last elements of an array
    // starts: the cuts most likely to find an off-by-one.
    const std::vector<uint64_t>& boundaries() const { return boundaries_; }

private:
    template <typename T>
    T get() {
        T value;
        std::memcpy(&value, take(sizeof(T)), sizeof(T));
        return value;
    }
    const uint8_t* take(uint64_t n) {
        if (n > bytes_.size() - pos_) throw std::out_of_range("walker: past the end");
        const uint8_t* p = bytes_.data() + pos_;
        pos_ += n;
        return p;
    }
    void skip(uint64_t n) { take(n); }
    void mark() { boundaries_.push_back(pos_); }

    void skip_value(uint32_t type) {
        static constexpr uint32_t kSizes[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        if (type >= 13) throw std::out_of_range("walker: unknown value type");
        if (type == 8) {
            skip(get<uint64_t>());
        } else if (type == 9) {
            auto elem = get<uint32_t>();
            auto count = get<uint64_t>();
            mark();
            if (elem < 13 && kSizes[elem] != 0) {
                if (count > (bytes_.size() - pos_) / kSizes[elem]) {
                    throw std::out_of_range("walker: array past the end");
                }
                skip(count * kSizes[elem]);
            } else {
                for (uint64_t i = 0; i < count; ++i) {
                    if (i < 2 || count - i <= 2) mark();
                    skip_value(elem);
                }
            }
            mark();
        } else {
            skip(kSizes[type]);
        }
    }

    std::span<const uint8_t> bytes_;
    uint64_t pos_ = 0;
    std::vector<uint64_t> boundaries_;
};

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// The shortest prefix of a valid file that must parse: for a tensor file, the end of
// the data of the tensor that ends last (and at least the aligned data section start);
// for a tensorless file, the end of the last KV record.
uint64_t required_length(const GgufFile& full, uint64_t end_of_infos) {
    if (full.tensors().empty()) return end_of_infos;
    uint64_t end = full.data_offset();
    for (const gguf::TensorInfo& t : full.tensors()) {
        end = std::max(end, full.data_offset() + t.offset + t.n_bytes);
    }
    return end;
}

// The N in the first "byte N" of a message, or -1.
int64_t reported_offset(const std::string& message) {
    size_t at = message.find(": byte ");
    if (at == std::string::npos) return -1;
    return std::strtoll(message.c_str() + at + 7, nullptr, 10);
}

struct SweepResult {
    uint64_t cuts = 0;
    uint64_t rejected = 0;
    uint64_t parsed = 0;
    std::vector<std::string> failures;  // first few problems, for the report
};

// Parses bytes[0, n) for every n in cuts. Below `required` it must throw a Format
// loom::Error naming a byte offset <= n; from `required` on it must parse and agree with
// `full` on the counts.
SweepResult sweep(std::span<const uint8_t> bytes, const std::set<uint64_t>& cuts,
                  uint64_t required, const GgufFile& full) {
    SweepResult r;
    auto fail = [&r](uint64_t n, const std::string& what) {
        if (r.failures.size() < 8) {
            r.failures.push_back("prefix " + std::to_string(n) + ": " + what);
        }
    };
    for (uint64_t n : cuts) {
        if (n > bytes.size()) continue;
        ++r.cuts;
        const bool must_parse = n >= required;
        try {
            GgufFile f = GgufFile::parse(bytes.first(n), "prefix");
            ++r.parsed;
            if (!must_parse) {
                fail(n, "parsed, but the file needs " + std::to_string(required) + " bytes");
            } else if (f.metadata().size() != full.metadata().size() ||
                       f.tensors().size() != full.tensors().size()) {
                fail(n, "parsed with different counts than the whole file");
            }
        } catch (const Error& e) {
            ++r.rejected;
            std::string message = e.what();
            if (must_parse) {
                fail(n, "rejected, though only padding is missing: " + message);
            } else if (e.code() != ErrorCode::Format) {
                fail(n, "code " + std::string(error_code_name(e.code())) + ": " + message);
            } else {
                int64_t at = reported_offset(message);
                if (at < 0 || static_cast<uint64_t>(at) > n) {
                    fail(n, "message does not name a byte inside the prefix: " + message);
                }
            }
        } catch (const std::exception& e) {
            fail(n, std::string("non-loom exception: ") + e.what());
        }
    }
    return r;
}

std::string report(const SweepResult& r) {
    std::ostringstream out;
    out << r.cuts << " cuts, " << r.rejected << " rejected, " << r.parsed << " parsed";
    for (const std::string& f : r.failures) out << "\n  " << f;
    return out.str();
}

// Every prefix length in [0, end] when that is short. Otherwise (a vocabulary file:
// each cut past its token array costs a parse of up to 8 ms) the first kDenseHead bytes,
// the byte before, at and after every boundary the walker saw (so every field of every
// record is cut missing, partial and complete), the last 16 bytes and kEvenCuts evenly
// spaced lengths: about 4,200 cuts, all shapes of truncation, instead of millions.
std::set<uint64_t> header_cuts(uint64_t end, const std::vector<uint64_t>& boundaries) {
    std::set<uint64_t> cuts;
    if (end <= kDenseLimit) {
        for (uint64_t n = 0; n <= end; ++n) cuts.insert(n);
        return cuts;
    }
    for (uint64_t n = 0; n < kDenseHead; ++n) cuts.insert(n);
    for (uint64_t b : boundaries) {
        for (uint64_t n = b > 0 ? b - 1 : 0; n <= b + 1; ++n) {
            if (n <= end) cuts.insert(n);
        }
    }
    for (uint64_t n = end - 16; n <= end; ++n) cuts.insert(n);
    for (uint64_t i = 0; i <= kEvenCuts; ++i) cuts.insert(end * i / kEvenCuts);
    return cuts;
}

// Builds the writer-made file: all 13 value types, a nested array, a string array,
// general.alignment 64, and tensors of plain and quantized types. The last tensor's
// size is a multiple of 64, so the file ends with data, not padding.
std::vector<uint8_t> writer_file() {
    GgufWriter w;
    w.add("general.alignment", uint32_t{64});
    w.add("general.name", "truncation sweep");
    w.add("test.u8", uint8_t{200});
    w.add("test.i8", int8_t{-5});
    w.add("test.u16", uint16_t{60000});
    w.add("test.i16", int16_t{-300});
    w.add("test.u32", uint32_t{4000000000u});
    w.add("test.i32", int32_t{-7});
    w.add("test.f32", 1.5f);
    w.add("test.bool", true);
    w.add("test.string", "h\xc3\xa9llo");
    w.add("test.u64", uint64_t{1} << 40);
    w.add("test.i64", -(int64_t{1} << 40));
    w.add("test.f64", 0.25);
    const std::vector<int32_t> ints = {1, -2, 3};
    w.add_array("test.array", std::span<const int32_t>(ints));
    const bool flags[] = {true, false, true};
    w.add_array("test.flags", std::span<const bool>(flags));
    const std::vector<std::string> strings = {"a", "", "b\xc3\xa9", "last"};
    w.add_array("test.strings", std::span<const std::string>(strings));

    const uint32_t row0[] = {1, 2};
    const uint32_t row1[] = {3, 4, 5};
    gguf::Array inner0;
    inner0.elem_type = gguf::ValueType::U32;
    inner0.count = 2;
    inner0.data = reinterpret_cast<const uint8_t*>(row0);
    gguf::Array inner1;
    inner1.elem_type = gguf::ValueType::U32;
    inner1.count = 3;
    inner1.data = reinterpret_cast<const uint8_t*>(row1);
    gguf::Array words;
    words.elem_type = gguf::ValueType::String;
    words.count = 2;
    words.strings = {"x", "yz"};
    gguf::Array outer;
    outer.elem_type = gguf::ValueType::Array;
    outer.count = 3;
    outer.arrays = {gguf::Value(gguf::Value::Storage(inner0)),
                    gguf::Value(gguf::Value::Storage(inner1)),
                    gguf::Value(gguf::Value::Storage(words))};
    w.add_value("test.nested", gguf::Value(gguf::Value::Storage(outer)));

    auto pattern = [](size_t n) {
        std::vector<uint8_t> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 37 + 11) % 251);
        return v;
    };
    // Q4_0 and Q8_0 scales are f16: 0x3c00 (1.0) keeps them finite.
    auto quant = [&](size_t n_blocks, size_t block_bytes) {
        std::vector<uint8_t> v = pattern(n_blocks * block_bytes);
        for (size_t b = 0; b < n_blocks; ++b) {
            v[b * block_bytes] = 0x00;
            v[b * block_bytes + 1] = 0x3c;
        }
        return v;
    };
    w.add_tensor("token_embd.weight", GgmlType::F32, {8, 4}, pattern(8 * 4 * 4));
    w.add_tensor("f16.weight", GgmlType::F16, {24}, pattern(48));
    w.add_tensor("q4_0.weight", GgmlType::Q4_0, {64, 2}, quant(4, 18));
    w.add_tensor("q8_0.weight", GgmlType::Q8_0, {32}, quant(1, 34));
    w.add_tensor("q4_k.weight", GgmlType::Q4_K, {256}, pattern(144));
    w.add_tensor("i32.weight", GgmlType::I32, {2, 2, 2, 1}, pattern(32));
    w.add_tensor("last.weight", GgmlType::F32, {16}, pattern(64));
    return w.to_bytes();
}

TEST(Truncation, WriterFileEveryPrefix) {
    std::vector<uint8_t> bytes = writer_file();
    GgufFile full = GgufFile::parse(bytes, "writer file");
    EXPECT_EQ(full.alignment(), 64u);
    EXPECT_EQ(full.metadata().size(), 18u);
    EXPECT_EQ(full.tensors().size(), 7u);
    EXPECT_EQ(full.get_array("test.nested", gguf::ValueType::Array).count, 3u);
    EXPECT_EQ(full.tensor("q4_k.weight").type, GgmlType::Q4_K);

    Walker walker(bytes);
    uint64_t end_of_infos = walker.walk();
    EXPECT_EQ(full.data_offset(), align_up(end_of_infos, 64));
    uint64_t required = required_length(full, end_of_infos);
    EXPECT_EQ(required, bytes.size()) << "the file should end with tensor data";

    std::set<uint64_t> cuts;
    for (uint64_t n = 0; n <= bytes.size(); ++n) cuts.insert(n);
    SweepResult r = sweep(bytes, cuts, required, full);
    EXPECT_TRUE(r.failures.empty()) << report(r);
    EXPECT_EQ(r.parsed, 1u) << report(r);
    EXPECT_EQ(r.rejected, bytes.size()) << report(r);
}

TEST(Truncation, Stories260K) {
    GgufFile full = GgufFile::open(fixture("stories260K.gguf"));
    std::span<const uint8_t> bytes = full.bytes();
    Walker walker(bytes);
    uint64_t end_of_infos = walker.walk();
    ASSERT_EQ(full.data_offset(), align_up(end_of_infos, full.alignment()));
    uint64_t required = required_length(full, end_of_infos);

    // Every prefix of the header, metadata, tensor infos and padding.
    SweepResult head = sweep(bytes, header_cuts(full.data_offset(), walker.boundaries()),
                             required, full);
    EXPECT_TRUE(head.failures.empty()) << report(head);
    EXPECT_EQ(head.cuts, full.data_offset() + 1) << "the header region is cut at every byte";
    EXPECT_EQ(head.parsed, 0u) << report(head);

    // Evenly spaced cuts in the tensor data, and the whole file.
    std::set<uint64_t> cuts;
    uint64_t data_size = bytes.size() - full.data_offset();
    for (uint64_t i = 0; i <= kDataCuts; ++i) {
        cuts.insert(full.data_offset() + data_size * i / kDataCuts);
    }
    cuts.insert(required - 1);
    cuts.insert(required);
    SweepResult data = sweep(bytes, cuts, required, full);
    EXPECT_TRUE(data.failures.empty()) << report(data);
    EXPECT_GE(data.rejected, kDataCuts - 1) << report(data);
    EXPECT_GE(data.parsed, 1u) << report(data);  // the whole file
}

TEST(Truncation, VocabOnlyFiles) {
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(fixture("vocab"))) {
        if (entry.path().extension() != ".gguf") continue;
        ++files;
        SCOPED_TRACE(entry.path().filename().string());
        GgufFile full = GgufFile::open(entry.path());
        ASSERT_TRUE(full.tensors().empty());
        std::span<const uint8_t> bytes = full.bytes();
        Walker walker(bytes);
        uint64_t end_of_kvs = walker.walk();
        uint64_t required = required_length(full, end_of_kvs);
        // A tensorless file may stop right after its last record, or carry padding.
        EXPECT_LE(required, bytes.size());
        EXPECT_LT(bytes.size() - required, full.alignment());

        std::set<uint64_t> cuts = header_cuts(required, walker.boundaries());
        for (uint64_t n = required; n <= bytes.size(); ++n) cuts.insert(n);
        SweepResult r = sweep(bytes, cuts, required, full);
        EXPECT_TRUE(r.failures.empty()) << report(r);
        EXPECT_EQ(r.parsed, bytes.size() - required + 1) << report(r);
        EXPECT_GE(r.rejected, kDenseHead) << report(r);
    }
    EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace loom::test

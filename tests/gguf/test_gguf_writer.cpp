// Writer tests: layout and padding, write -> read -> write byte identity, rewriting real
// files byte for byte, argument errors, atomic file writes, deferred (streamed) tensors.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "test_util.h"

namespace loom::gguf {
namespace {

using loom::test::fixture;
using loom::test::read_bytes;

GgufWriter sample_writer(uint32_t alignment) {
    GgufWriter w;
    w.add("general.architecture", "llama");
    w.add("general.alignment", alignment);
    w.add("llama.block_count", uint32_t{1});
    const std::vector<std::string> tokens = {"<unk>", "a", "b"};
    w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
    std::vector<uint8_t> f32(4 * 5 * 4);
    std::iota(f32.begin(), f32.end(), uint8_t{1});
    w.add_tensor("blk.0.attn_norm.weight", GgmlType::F32, {20}, f32);
    std::vector<uint8_t> q8(34 * 2, 0x11);
    w.add_tensor("blk.0.ffn_up.weight", GgmlType::Q8_0, {32, 2}, q8);
    std::vector<uint8_t> q4k(144, 0x22);
    w.add_tensor("token_embd.weight", GgmlType::Q4_K, {256, 1}, q4k);
    return w;
}

TEST(GgufWriter, LayoutIsAlignedAndReadable) {
    for (uint32_t alignment : {1u, 8u, 32u, 64u, 4096u}) {
        auto bytes = sample_writer(alignment).to_bytes();
        GgufFile f = GgufFile::parse(bytes, "mem");
        EXPECT_EQ(f.alignment(), alignment);
        EXPECT_EQ(f.data_offset() % alignment, 0u);
        EXPECT_EQ(bytes.size() % alignment, 0u);
        ASSERT_EQ(f.tensors().size(), 3u);
        for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % alignment, 0u) << t.name;
        EXPECT_EQ(f.tensor("blk.0.attn_norm.weight").data[0], 1);
        EXPECT_EQ(f.tensor("token_embd.weight").data[143], 0x22);
    }
}

TEST(GgufWriter, WriteReadWriteIsByteIdentical) {
    auto first = sample_writer(32).to_bytes();
    GgufFile f = GgufFile::parse(first, "mem");
    auto second = GgufWriter::copy_of(f).to_bytes();
    EXPECT_EQ(first, second);
}

TEST(GgufWriter, RewritesRealFilesByteForByte) {
    for (const char* name : {"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf",
                             "stories260K-Q4_K_M.gguf", "vocab/ggml-vocab-llama-spm.gguf",
                             "vocab/ggml-vocab-gpt-2.gguf"}) {
        auto original = read_bytes(fixture(name));
        GgufFile f = GgufFile::parse(original, name);
        auto rewritten = GgufWriter::copy_of(f).to_bytes();
        EXPECT_TRUE(rewritten == original) << name << ": " << rewritten.size() << " vs "
                                           << original.size() << " bytes";
    }
}

TEST(GgufWriter, RejectsBadArguments) {
    GgufWriter w;
    w.add("a.key", uint32_t{1});
    EXPECT_THROW(w.add("a.key", uint32_t{2}), Error);                // duplicate
    EXPECT_THROW(w.add("", uint32_t{2}), Error);                     // empty key
    EXPECT_THROW(w.add("bad key", uint32_t{2}), Error);              // space
    EXPECT_THROW(w.add("general.alignment", uint32_t{48}), Error);   // not a power of two
    EXPECT_THROW(w.add("general.alignment", uint64_t{32}), Error);   // wrong type
    std::vector<uint8_t> data(10);
    EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {4}, data), Error);        // size mismatch
    EXPECT_THROW(w.add_tensor("q", GgmlType::Q4_0, {33}, data), Error);      // block size
    EXPECT_THROW(w.add_tensor(std::string(64, 'n'), GgmlType::I8, {10}, data), Error);
    EXPECT_THROW(w.add_tensor("d", GgmlType::I8, {1, 1, 1, 1, 10}, data), Error);
    w.add_tensor("ok", GgmlType::I8, {10}, data);
    EXPECT_THROW(w.add_tensor("ok", GgmlType::I8, {10}, data), Error);       // duplicate
}

TEST(GgufWriter, WriteFileIsAtomic) {
    auto dir = std::filesystem::temp_directory_path() / "loom_writer_test";
    std::filesystem::create_directories(dir);
    auto path = dir / "out.gguf";
    sample_writer(32).write_file(path);
    EXPECT_EQ(read_bytes(path), sample_writer(32).to_bytes());
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temporary
    EXPECT_THROW(sample_writer(32).write_file(dir / "missing" / "out.gguf"), Error);
    std::filesystem::remove_all(dir);
}

// The sample file with every tensor deferred: the producers copy the same bytes.
GgufWriter deferred_sample(int& calls) {
    const std::vector<uint8_t> file_bytes = sample_writer(32).to_bytes();  // parse keeps views into it
    GgufFile reference = GgufFile::parse(file_bytes, "mem");
    GgufWriter w;
    for (const KeyValue& kv : reference.metadata()) w.add_value(kv.key, kv.value);
    for (const TensorInfo& t : reference.tensors()) {
        std::vector<uint8_t> bytes(t.data.begin(), t.data.end());
        w.add_tensor_deferred(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims),
                              [bytes, &calls](std::span<uint8_t> out) {
                                  ++calls;
                                  ASSERT_EQ(out.size(), bytes.size());
                                  std::copy(bytes.begin(), bytes.end(), out.begin());
                              });
    }
    return w;
}

TEST(GgufWriter, DeferredTensorsWriteTheSameBytes) {
    int calls = 0;
    GgufWriter w = deferred_sample(calls);
    EXPECT_EQ(calls, 0);  // nothing is produced before the write
    EXPECT_EQ(w.to_bytes(), sample_writer(32).to_bytes());
    EXPECT_EQ(calls, 3);  // once per tensor per write
    auto dir = std::filesystem::temp_directory_path() / "loom_writer_deferred_test";
    std::filesystem::create_directories(dir);
    w.write_file(dir / "out.gguf");
    EXPECT_EQ(read_bytes(dir / "out.gguf"), sample_writer(32).to_bytes());
    EXPECT_EQ(calls, 6);
    std::filesystem::remove_all(dir);
}

TEST(GgufWriter, DeferredTensorsAreCheckedLikeCopiedOnes) {
    GgufWriter w;
    auto fill = [](std::span<uint8_t>) {};
    const std::vector<uint64_t> odd{33}, four{4};
    EXPECT_THROW(w.add_tensor_deferred("q", GgmlType::Q4_0, odd, fill), Error);    // block size
    EXPECT_THROW(w.add_tensor_deferred("n", GgmlType::F32, four, nullptr), Error);  // no producer
    w.add_tensor_deferred("ok", GgmlType::F32, four, fill);
    std::vector<uint8_t> data(16);
    EXPECT_THROW(w.add_tensor("ok", GgmlType::F32, {4}, data), Error);  // duplicate across kinds
    EXPECT_THROW(w.add_tensor_deferred("ok", GgmlType::F32, four, fill), Error);
}

TEST(GgufWriter, FailedRenameNamesTheSystemError) {
    // The target is a non-empty directory: the rename fails after the file was written.
    auto dir = std::filesystem::temp_directory_path() / "loom_writer_rename_test";
    std::filesystem::create_directories(dir / "out.gguf" / "inside");
    try {
        sample_writer(32).write_file(dir / "out.gguf");
        ADD_FAILURE() << "write_file over a directory succeeded";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("cannot rename"), std::string::npos) << message;
        // The rename's own error, not that of the clean-up after it.
        EXPECT_EQ(message.find("Success"), std::string::npos) << message;
    }
    // No temporary file is left.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
    std::filesystem::remove_all(dir);
}

TEST(GgufWriter, FailingProducerLeavesNoFile) {
    auto dir = std::filesystem::temp_directory_path() / "loom_writer_failing_test";
    std::filesystem::create_directories(dir);
    GgufWriter w;
    w.add("general.architecture", "llama");
    w.add_tensor_deferred("a", GgmlType::F32, std::vector<uint64_t>{8}, [](std::span<uint8_t>) {});
    w.add_tensor_deferred("b", GgmlType::F32, std::vector<uint64_t>{8}, [](std::span<uint8_t>) {
        throw Error(ErrorCode::Format, "producer failed");
    });
    EXPECT_THROW(w.write_file(dir / "out.gguf"), Error);
    EXPECT_FALSE(std::filesystem::exists(dir / "out.gguf"));
    EXPECT_TRUE(std::filesystem::is_empty(dir));  // the temporary file is gone too
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace loom::gguf

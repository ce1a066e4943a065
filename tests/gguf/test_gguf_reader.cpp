// Reader tests on real files (stories260K and its quantized variants, the vocab-only
// files, the Gemma 3 default model) and on writer-made files: values, typed accessors
// and their error messages, tensor views.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "test_util.h"

namespace loom::gguf {
namespace {

using loom::test::fixture;

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(GgufReader, Stories260K) {
    GgufFile f = GgufFile::open(fixture("stories260K.gguf"));
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.architecture(), "llama");
    EXPECT_EQ(f.get<uint32_t>("llama.block_count"), 5u);
    EXPECT_EQ(f.get_uint("llama.embedding_length"), 64u);
    EXPECT_EQ(f.get_uint("llama.attention.head_count"), 8u);
    EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 4u);
    EXPECT_EQ(f.get_uint("llama.context_length"), 128u);
    const Array& tokens = f.get_array("tokenizer.ggml.tokens", ValueType::String);
    EXPECT_EQ(tokens.count, 512u);
    EXPECT_EQ(tokens.strings[1], "<s>");
    const Array& scores = f.get_array("tokenizer.ggml.scores", ValueType::F32);
    EXPECT_EQ(scores.count, 512u);
    EXPECT_EQ(f.tensors().size(), 48u);
    const TensorInfo& embd = f.tensor("token_embd.weight");
    EXPECT_EQ(embd.type, GgmlType::F32);
    EXPECT_EQ(embd.n_dims, 2u);
    EXPECT_EQ(embd.ne[0], 64u);
    EXPECT_EQ(embd.ne[1], 512u);
    EXPECT_EQ(embd.n_bytes, 64u * 512u * 4u);
    EXPECT_EQ(embd.data.data(), f.bytes().data() + f.data_offset() + embd.offset);
    EXPECT_EQ(f.data_offset() % f.alignment(), 0u);
}

TEST(GgufReader, QuantizedVariantsOpen) {
    for (const char* name : {"stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf", "stories260K-Q4_K_M.gguf"}) {
        GgufFile f = GgufFile::open(fixture(name));
        EXPECT_EQ(f.tensors().size(), 48u) << name;
        EXPECT_EQ(f.get_uint("general.quantization_version"), 2u) << name;
    }
    GgufFile q8 = GgufFile::open(fixture("stories260K-Q8_0.gguf"));
    EXPECT_EQ(q8.tensor("blk.0.attn_q.weight").type, GgmlType::Q8_0);
}

TEST(GgufReader, VocabOnlyFilesOpen) {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(fixture("vocab"))) {
        if (entry.path().extension() != ".gguf") continue;
        GgufFile f = GgufFile::open(entry.path());
        EXPECT_TRUE(f.tensors().empty()) << entry.path();
        EXPECT_GT(f.get_array("tokenizer.ggml.tokens", ValueType::String).count, 0u);
        ++n;
    }
    EXPECT_GE(n, 10u);
}

TEST(GgufReader, Gemma3DefaultModel) {
    ASSERT_TRUE(std::filesystem::exists(loom::test::default_model()))
        << "the README set-up installs the default model";
    GgufFile f = GgufFile::open(loom::test::default_model());
    EXPECT_EQ(f.architecture(), "gemma3");
    EXPECT_EQ(f.get_uint("gemma3.block_count"), 18u);
    EXPECT_EQ(f.get_uint("gemma3.embedding_length"), 640u);
    EXPECT_EQ(f.tensors().size(), 236u);
    EXPECT_EQ(f.get_array("tokenizer.ggml.tokens", ValueType::String).count, 262144u);
    uint64_t params = 0;
    for (const auto& t : f.tensors()) params += t.n_elements;
    EXPECT_EQ(params, 268098176u);
}

TEST(GgufReader, TypedAccessorErrorsNameKeyAndTypes) {
    GgufFile f = GgufFile::open(fixture("stories260K.gguf"));
    EXPECT_NE(error_of([&] { f.get<std::string_view>("llama.block_count"); })
                  .find("key llama.block_count: expected string, found u32"),
              std::string::npos);
    EXPECT_NE(error_of([&] { f.get<uint32_t>("general.architecture"); })
                  .find("key general.architecture: expected u32, found string"),
              std::string::npos);
    EXPECT_NE(error_of([&] { f.get_uint("no.such.key"); }).find("key no.such.key: missing"),
              std::string::npos);
    EXPECT_NE(error_of([&] { f.get_array("tokenizer.ggml.tokens", ValueType::I32); })
                  .find("expected array[i32], found array[string]"),
              std::string::npos);
    EXPECT_NE(error_of([&] { f.tensor("nope.weight"); }).find("tensor nope.weight: missing"),
              std::string::npos);
    try {
        f.get_uint("no.such.key");
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
}

TEST(GgufReader, LenientIntegerAccessors) {
    GgufWriter w;
    w.add("a.u8", uint8_t{7});
    w.add("a.i32", int32_t{12});
    w.add("a.neg", int32_t{-1});
    w.add("a.u64", uint64_t{1} << 40);
    w.add("a.f64", 0.5);
    auto bytes = w.to_bytes();
    GgufFile f = GgufFile::parse(bytes, "mem");
    EXPECT_EQ(f.get_uint("a.u8"), 7u);
    EXPECT_EQ(f.get_uint("a.i32"), 12u);
    EXPECT_EQ(f.get_uint("a.u64"), uint64_t{1} << 40);
    EXPECT_THROW(f.get_uint("a.neg"), Error);
    EXPECT_THROW(f.get_uint("a.f64"), Error);
    EXPECT_DOUBLE_EQ(f.get_float("a.f64"), 0.5);
    EXPECT_FALSE(f.find_uint("a.none").has_value());
}

TEST(GgufReader, NestedArraysAndAllScalarTypes) {
    GgufWriter w;
    w.add("t.u8", uint8_t{255});
    w.add("t.i8", int8_t{-128});
    w.add("t.u16", uint16_t{65535});
    w.add("t.i16", int16_t{-32768});
    w.add("t.u32", uint32_t{4000000000u});
    w.add("t.i32", int32_t{-2000000000});
    w.add("t.f32", 1.5f);
    w.add("t.bool", true);
    w.add("t.str", std::string_view("héllo"));
    w.add("t.u64", uint64_t{18000000000000000000ull});
    w.add("t.i64", int64_t{-9000000000000000000ll});
    w.add("t.f64", -2.25);
    const std::vector<int32_t> ints = {1, -2, 3};
    w.add_array<int32_t>("t.ints", ints);
    auto bytes = w.to_bytes();
    GgufFile f = GgufFile::parse(bytes, "mem");
    EXPECT_EQ(f.get<uint8_t>("t.u8"), 255);
    EXPECT_EQ(f.get<int8_t>("t.i8"), -128);
    EXPECT_EQ(f.get<uint16_t>("t.u16"), 65535);
    EXPECT_EQ(f.get<int16_t>("t.i16"), -32768);
    EXPECT_EQ(f.get<uint32_t>("t.u32"), 4000000000u);
    EXPECT_EQ(f.get<int32_t>("t.i32"), -2000000000);
    EXPECT_EQ(f.get<float>("t.f32"), 1.5f);
    EXPECT_EQ(f.get<bool>("t.bool"), true);
    EXPECT_EQ(f.get<std::string_view>("t.str"), "héllo");
    EXPECT_EQ(f.get<uint64_t>("t.u64"), 18000000000000000000ull);
    EXPECT_EQ(f.get<int64_t>("t.i64"), -9000000000000000000ll);
    EXPECT_EQ(f.get<double>("t.f64"), -2.25);
    const Array& arr = f.get_array("t.ints", ValueType::I32);
    ASSERT_EQ(arr.count, 3u);
    EXPECT_EQ(arr.fixed<int32_t>(1), -2);
    EXPECT_EQ(arr.integer(2), 3);
    EXPECT_EQ(f.metadata().size(), 13u);
    EXPECT_EQ(f.metadata()[0].key, "t.u8");  // file order is kept
}

TEST(GgufReader, NestedArrayRoundTrip) {
    // Build an array of arrays by re-reading a value: the writer copies Values deeply.
    GgufWriter inner;
    const std::vector<int32_t> row = {4, 5};
    inner.add_array<int32_t>("row", row);
    auto inner_bytes = inner.to_bytes();
    GgufFile inner_file = GgufFile::parse(inner_bytes, "inner");
    Array outer;
    outer.elem_type = ValueType::Array;
    outer.count = 2;
    outer.arrays = {inner_file.metadata()[0].value, inner_file.metadata()[0].value};
    GgufWriter w;
    w.add_value("nested", Value(outer));
    auto bytes = w.to_bytes();
    GgufFile f = GgufFile::parse(bytes, "mem");
    const Value* v = f.find("nested");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->type_description(), "array[array[i32]]");
    ASSERT_EQ(v->array()->arrays.size(), 2u);
    EXPECT_EQ(v->array()->arrays[1].array()->fixed<int32_t>(1), 5);
}

TEST(GgufReader, DepthLimitIsAnOption) {
    Array level1;
    level1.elem_type = ValueType::U8;
    Array level2;
    level2.elem_type = ValueType::Array;
    level2.count = 1;
    level2.arrays = {Value(level1)};
    Array level3;
    level3.elem_type = ValueType::Array;
    level3.count = 1;
    level3.arrays = {Value(level2)};
    GgufWriter w;
    w.add_value("deep", Value(level3));
    auto bytes = w.to_bytes();
    EXPECT_NO_THROW(GgufFile::parse(bytes, "mem"));
    ReadOptions shallow;
    shallow.max_array_depth = 2;
    std::string message = error_of([&] { GgufFile::parse(bytes, "mem", shallow); });
    EXPECT_NE(message.find("nested arrays deeper than 2"), std::string::npos) << message;
}

}  // namespace
}  // namespace loom::gguf

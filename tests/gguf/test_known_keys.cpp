// Tests of the well-known key checks: hyperparameter ranges and types, per-layer arrays,
// block_count against the tensors, tokenizer array types and lengths.
#include <gtest/gtest.h>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/known_keys.h"

namespace loom::gguf {
namespace {

// A llama file with n_tensor_layers layers of one tiny tensor each, plus extra keys.
GgufWriter llama_writer(uint64_t n_tensor_layers) {
    GgufWriter w;
    w.add("general.architecture", "llama");
    std::vector<uint8_t> data(4 * 4);
    for (uint64_t il = 0; il < n_tensor_layers; ++il) {
        w.add_tensor("blk." + std::to_string(il) + ".attn_norm.weight", GgmlType::F32, {4}, data);
    }
    return w;
}

struct Outcome {
    bool ok;
    ErrorCode code;
    std::string message;
};

Outcome parse(const GgufWriter& w) {
    auto bytes = w.to_bytes();
    try {
        GgufFile::parse(bytes, "mem");
        return {true, ErrorCode::Io, ""};
    } catch (const Error& e) {
        return {false, e.code(), e.what()};
    }
}

void expect_error(const GgufWriter& w, ErrorCode code, const std::string& needle) {
    Outcome o = parse(w);
    ASSERT_FALSE(o.ok) << "expected an error containing: " << needle;
    EXPECT_EQ(o.code, code) << o.message;
    EXPECT_NE(o.message.find(needle), std::string::npos) << o.message;
}

TEST(KnownKeys, ConsistentFileIsAccepted) {
    GgufWriter w = llama_writer(2);
    w.add("llama.block_count", uint32_t{2});
    w.add("llama.attention.head_count", uint32_t{8});
    const std::vector<uint32_t> per_layer = {8, 4};
    w.add_array<uint32_t>("llama.attention.head_count_kv", per_layer);
    EXPECT_TRUE(parse(w).ok) << parse(w).message;
}

TEST(KnownKeys, BlockCountAboveLimit) {
    GgufWriter w = llama_writer(0);
    w.add("llama.block_count", uint32_t{kMaxLayers + 1});
    expect_error(w, ErrorCode::OutOfRange, "key llama.block_count: value 1025 is outside [1, 1024]");
}

TEST(KnownKeys, BlockCountLargerThanTensors) {
    GgufWriter w = llama_writer(2);
    w.add("llama.block_count", uint32_t{600});
    expect_error(w, ErrorCode::OutOfRange, "has tensors for only 2 layers");
}

TEST(KnownKeys, TensorBeyondBlockCount) {
    GgufWriter w = llama_writer(3);
    w.add("llama.block_count", uint32_t{2});
    expect_error(w, ErrorCode::OutOfRange, "tensor \"blk.2.attn_norm.weight\" belongs to a later layer");
}

TEST(KnownKeys, BlockCountOfWrongType) {
    GgufWriter w = llama_writer(1);
    w.add("llama.block_count", "one");
    expect_error(w, ErrorCode::Format, "key llama.block_count: expected an unsigned integer, found string");
}

TEST(KnownKeys, PerLayerArrayLength) {
    GgufWriter w = llama_writer(2);
    w.add("llama.block_count", uint32_t{2});
    const std::vector<uint32_t> heads = {8, 8, 8};
    w.add_array<uint32_t>("llama.attention.head_count", heads);
    expect_error(w, ErrorCode::OutOfRange, "per-layer array has 3 entries, block_count is 2");
}

TEST(KnownKeys, ExpertsUsedAboveExperts) {
    GgufWriter w = llama_writer(0);
    w.add("llama.expert_count", uint32_t{4});
    w.add("llama.expert_used_count", uint32_t{5});
    expect_error(w, ErrorCode::OutOfRange, "more than expert_count 4");
}

TEST(KnownKeys, NaNEpsilon) {
    GgufWriter w = llama_writer(0);
    w.add("llama.attention.layer_norm_rms_epsilon", std::numeric_limits<float>::quiet_NaN());
    expect_error(w, ErrorCode::OutOfRange, "layer_norm_rms_epsilon: value nan");
}

TEST(KnownKeys, TokenizerArrayTypes) {
    {
        GgufWriter w;
        const std::vector<int32_t> ids = {1, 2};
        w.add_array<int32_t>("tokenizer.ggml.tokens", ids);
        expect_error(w, ErrorCode::Format, "expected array[string], found array[i32]");
    }
    {
        GgufWriter w;
        const std::vector<std::string> tokens = {"a", "b"};
        w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
        const std::vector<float> scores = {0.0f};
        w.add_array<float>("tokenizer.ggml.scores", scores);
        expect_error(w, ErrorCode::OutOfRange, "has 1 entries, tokenizer.ggml.tokens has 2");
    }
    {
        GgufWriter w;
        const std::vector<std::string> tokens = {"a"};
        w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
        w.add("tokenizer.ggml.add_bos_token", uint8_t{1});
        expect_error(w, ErrorCode::Format, "expected bool, found u8");
    }
}

TEST(KnownKeys, NegativeTokenIdIsLeftToTheTokenizer) {
    GgufWriter w;
    const std::vector<std::string> tokens = {"a"};
    w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
    w.add("tokenizer.ggml.bos_token_id", int32_t{-1});
    EXPECT_TRUE(parse(w).ok) << parse(w).message;
}

TEST(KnownKeys, CanBeSkipped) {
    GgufWriter w = llama_writer(0);
    w.add("llama.block_count", "one");
    auto bytes = w.to_bytes();
    ReadOptions options;
    options.validate_known_keys = false;
    EXPECT_NO_THROW(GgufFile::parse(bytes, "mem", options));
}

}  // namespace
}  // namespace loom::gguf

// Model::load names what is wrong: a missing tensor, a misshaped one, an unknown
// architecture, inconsistent expert counts, a bad RoPE scaling type. Each case rewrites
// the stories260K fixture with one change through Loom's writer.
#include "model/model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "gguf/gguf_writer.h"
#include "test_util.h"

namespace loom::model {
namespace {

struct Change {
    std::string skip_tensor{};                       // leave this tensor out
    std::string reshape_tensor{};                    // write this tensor with its two dims swapped
    std::function<void(gguf::GgufWriter&)> extra{};  // more keys
    std::string replace_key{};                       // leave this key out (extra may re-add it)
};

std::filesystem::path rewrite(const Change& c, const std::string& name) {
    const gguf::GgufFile src = gguf::GgufFile::open(test::fixture("stories260K.gguf"));
    gguf::GgufWriter w;
    for (const auto& kv : src.metadata()) {
        if (kv.key == c.replace_key || kv.key == "general.alignment") continue;
        w.add_value(kv.key, kv.value);
    }
    if (c.extra) c.extra(w);
    for (const gguf::TensorInfo& t : src.tensors()) {
        if (t.name == c.skip_tensor) continue;
        std::vector<uint64_t> shape(t.ne.begin(), t.ne.begin() + t.n_dims);
        if (t.name == c.reshape_tensor) std::swap(shape[0], shape[1]);
        w.add_tensor(t.name, t.type, shape, t.data);
    }
    const auto dir = std::filesystem::temp_directory_path() / ("loom-model-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / (name + ".gguf");
    w.write_file(path);
    return path;
}

void expect_error(const Change& c, const std::string& name, ErrorCode code, std::initializer_list<std::string> parts) {
    const auto path = rewrite(c, name);
    try {
        Model::load(path);
        FAIL() << name << ": loaded without error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
}

TEST(ModelLoad, TheUnchangedRewriteLoads) {
    EXPECT_NO_THROW(Model::load(rewrite({}, "same")));
}

TEST(ModelLoad, AMissingTensorIsNamed) {
    expect_error({.skip_tensor = "blk.0.attn_q.weight"}, "missing", ErrorCode::NotFound,
                 {"blk.0.attn_q.weight", "missing"});
    expect_error({.skip_tensor = "output_norm.weight"}, "missing_norm", ErrorCode::NotFound, {"output_norm.weight"});
}

TEST(ModelLoad, AMisshapedTensorIsNamedWithBothShapes) {
    expect_error({.reshape_tensor = "blk.1.ffn_up.weight"}, "shape", ErrorCode::Format,
                 {"blk.1.ffn_up.weight", "expected shape", "found"});
}

TEST(ModelLoad, AnUnknownArchitectureIsNamed) {
    expect_error({.extra = [](gguf::GgufWriter& w) { w.add("general.architecture", "gpt2"); },
                  .replace_key = "general.architecture"},
                 "arch", ErrorCode::Unsupported, {"\"gpt2\"", "not supported", "llama", "qwen3moe"});
}

TEST(ModelLoad, ExpertsNeedTheirTensorsAndConsistentCounts) {
    // llama with expert_count is Mixtral: the router must be there.
    expect_error({.extra =
                      [](gguf::GgufWriter& w) {
                          w.add("llama.expert_count", uint32_t{4});
                          w.add("llama.expert_used_count", uint32_t{2});
                      }},
                 "moe", ErrorCode::NotFound, {"blk.0.ffn_gate_inp.weight", "missing"});
    expect_error({.extra =
                      [](gguf::GgufWriter& w) {
                          w.add("llama.expert_count", uint32_t{2});
                          w.add("llama.expert_used_count", uint32_t{3});
                      }},
                 "moe_counts", ErrorCode::OutOfRange, {"llama.expert_used_count", "expert_count 2"});
}

TEST(ModelLoad, AnUnknownRopeScalingTypeIsNamed) {
    expect_error({.extra = [](gguf::GgufWriter& w) { w.add("llama.rope.scaling.type", "fancy"); }}, "rope",
                 ErrorCode::Unsupported, {"llama.rope.scaling.type", "fancy"});
}

}  // namespace
}  // namespace loom::model

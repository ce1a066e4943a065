// Mix rule tests: the per-tensor types of llama.cpp's file types on Llama-shaped tensor
// lists (Llama 3.2 1B: 16 layers, 32 query / 8 KV heads, tied embeddings), worked out by
// hand from llama-quant.cpp; the row-length fallbacks; the tensors that never change; the
// MoE, 70B and Falcon rules; the file-type table. tests/python/test_quantize.py checks the
// same rules against llama.cpp's quantizer itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/ggml_type.h"
#include "quant/quant_mix.h"
#include "quant/quant_type.h"

namespace loom::quant {
namespace {

using gguf::GgmlType;

// Names are stored here so that MixTensor's string_views stay valid.
struct TensorList {
    std::vector<std::string> names;
    std::vector<MixTensor> tensors;

    void add(std::string name, uint32_t n_dims, uint64_t ne0, GgmlType type = GgmlType::F32) {
        names.push_back(std::move(name));
        tensors.push_back({{}, n_dims, ne0, type});
    }
    std::span<const MixTensor> view() {
        for (size_t i = 0; i < names.size(); ++i) tensors[i].name = names[i];
        return tensors;
    }
};

// A Llama-architecture model: n_embd 2048, n_ff ffn_width, 16 layers unless told.
TensorList llama_tensors(bool tied, uint64_t ffn_width = 8192, int n_layer = 16) {
    TensorList list;
    list.add("token_embd.weight", 2, 2048);
    list.add("output_norm.weight", 1, 2048);
    if (!tied) list.add("output.weight", 2, 2048);
    for (int il = 0; il < n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        for (const char* name : {"attn_norm", "ffn_norm"}) list.add(p + name + ".weight", 1, 2048);
        for (const char* name :
             {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"}) {
            list.add(p + name + ".weight", 2, 2048);
        }
        list.add(p + "ffn_down.weight", 2, ffn_width);
    }
    return list;
}

constexpr MixModel kLlama1B{"llama", 16, 32, 8, 0};

// name -> chosen type.
std::map<std::string, GgmlType> plan(std::string_view file_type, const MixModel& model,
                                     TensorList& list, const MixOptions& options = {}) {
    const FileType* ft = find_file_type(file_type);
    EXPECT_NE(ft, nullptr) << file_type;
    std::vector<MixChoice> choices = plan_mix(*ft, model, list.view(), options);
    std::map<std::string, GgmlType> types;
    for (size_t i = 0; i < choices.size(); ++i) types[list.names[i]] = choices[i].type;
    return types;
}

std::string layer_types(const std::map<std::string, GgmlType>& types, const std::string& name,
                        int n_layer) {
    std::string out;
    for (int il = 0; il < n_layer; ++il) {
        out +=
            std::string(gguf::ggml_type_name(types.at("blk." + std::to_string(il) + "." + name))) +
            " ";
    }
    return out;
}

TEST(QuantMix, Q4_K_M_OnLlama1B) {
    TensorList list = llama_tensors(/*tied=*/true);
    auto types = plan("Q4_K_M", kLlama1B, list);
    // use_more_bits(i, 16): i < 2, i >= 14, (i - 2) % 3 == 2 -> layers 0 1 4 7 10 13 14 15.
    const std::string more =
        "q6_K q6_K q4_K q4_K q6_K q4_K q4_K q6_K q4_K q4_K q6_K q4_K q4_K q6_K q6_K q6_K ";
    EXPECT_EQ(layer_types(types, "attn_v.weight", 16), more);
    EXPECT_EQ(layer_types(types, "ffn_down.weight", 16), more);
    std::string base;
    for (int il = 0; il < 16; ++il) base += "q4_K ";
    for (const char* name : {"attn_q.weight", "attn_k.weight", "attn_output.weight",
                             "ffn_gate.weight", "ffn_up.weight"}) {
        EXPECT_EQ(layer_types(types, name, 16), base) << name;
    }
    EXPECT_EQ(types["token_embd.weight"], GgmlType::Q6_K);  // tied: it is also the output
    EXPECT_EQ(types["output_norm.weight"], GgmlType::F32);
    EXPECT_EQ(types["blk.3.attn_norm.weight"], GgmlType::F32);
}

TEST(QuantMix, UntiedEmbeddingsGetTheBaseTypeAndOutputQ6_K) {
    TensorList list = llama_tensors(/*tied=*/false);
    auto types = plan("Q4_K_M", kLlama1B, list);
    EXPECT_EQ(types["token_embd.weight"], GgmlType::Q4_K);
    EXPECT_EQ(types["output.weight"], GgmlType::Q6_K);
    // Q8_0 keeps the output in Q8_0; the legacy mixes still give it Q6_K.
    EXPECT_EQ(plan("Q8_0", kLlama1B, list)["output.weight"], GgmlType::Q8_0);
    EXPECT_EQ(plan("Q4_0", kLlama1B, list)["output.weight"], GgmlType::Q6_K);
    EXPECT_EQ(plan("Q4_0", kLlama1B, list)["token_embd.weight"], GgmlType::Q4_0);
    // --leave-output keeps it as it is.
    MixOptions leave;
    leave.leave_output = true;
    EXPECT_EQ(plan("Q4_K_M", kLlama1B, list, leave)["output.weight"], GgmlType::F32);
}

TEST(QuantMix, LayerCountersFollowLayerNumbersNotFileOrder) {
    TensorList list = llama_tensors(/*tied=*/true);
    auto in_order = plan("Q4_K_M", kLlama1B, list);
    // Shuffled: blk.10 before blk.2 and so on; llama.cpp sorts by layer number first.
    TensorList shuffled;
    std::vector<size_t> order(list.names.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    for (size_t i : order) shuffled.add(list.names[i], list.tensors[i].n_dims, list.tensors[i].ne0);
    EXPECT_EQ(plan("Q4_K_M", kLlama1B, shuffled), in_order);
}

TEST(QuantMix, SmallAndLargeMixes) {
    TensorList list = llama_tensors(/*tied=*/false);
    auto s = plan("Q4_K_S", kLlama1B, list);
    EXPECT_EQ(layer_types(s, "attn_v.weight", 6), "q5_K q5_K q5_K q5_K q4_K q4_K ");  // first 4
    EXPECT_EQ(layer_types(s, "ffn_down.weight", 4), "q5_K q5_K q4_K q4_K ");          // first n/8
    auto m3 = plan("Q3_K_M", kLlama1B, list);
    EXPECT_EQ(layer_types(m3, "attn_v.weight", 4), "q5_K q5_K q4_K q4_K ");
    EXPECT_EQ(layer_types(m3, "ffn_down.weight", 3), "q5_K q4_K q4_K ");  // i < n/16, then Q4_K
    EXPECT_EQ(m3["blk.5.attn_output.weight"], GgmlType::Q4_K);
    EXPECT_EQ(m3["blk.5.attn_q.weight"], GgmlType::Q3_K);
    auto l3 = plan("Q3_K_L", kLlama1B, list);
    EXPECT_EQ(l3["blk.9.attn_v.weight"], GgmlType::Q5_K);
    EXPECT_EQ(l3["blk.9.ffn_down.weight"], GgmlType::Q5_K);
    EXPECT_EQ(l3["blk.9.attn_output.weight"], GgmlType::Q5_K);
    auto q2 = plan("Q2_K", kLlama1B, list);
    EXPECT_EQ(q2["blk.9.attn_v.weight"], GgmlType::Q4_K);  // n_gqa 4
    EXPECT_EQ(q2["blk.9.ffn_down.weight"], GgmlType::Q3_K);
    EXPECT_EQ(q2["blk.9.attn_output.weight"], GgmlType::Q3_K);
    EXPECT_EQ(q2["blk.9.attn_q.weight"], GgmlType::Q2_K);
    auto xs = plan("IQ4_XS", kLlama1B, list);
    EXPECT_EQ(xs["blk.9.attn_v.weight"], GgmlType::Q5_K);  // n_gqa >= 4
    EXPECT_EQ(layer_types(xs, "ffn_down.weight", 3), "q5_K q5_K iq4_xs ");
    auto k6 = plan("Q6_K", kLlama1B, list);
    EXPECT_EQ(k6["blk.0.attn_v.weight"], GgmlType::Q6_K);
    EXPECT_EQ(k6["output.weight"], GgmlType::Q6_K);
}

TEST(QuantMix, FusedQkvFollowsTheAttnVRules) {
    // Current llama.cpp counts attn_qkv with attn_v (older versions gave it Q5_K in Q4_K_M).
    TensorList list;
    for (int il = 0; il < 8; ++il)
        list.add("blk." + std::to_string(il) + ".attn_qkv.weight", 2, 3072);
    auto types = plan("Q4_K_M", MixModel{"phi3", 8, 32, 32, 0}, list);
    EXPECT_EQ(layer_types(types, "attn_qkv.weight", 8), "q6_K q4_K q4_K q6_K q4_K q4_K q6_K q6_K ");
}

TEST(QuantMix, RowLengthsThatDoNotFitFallBack) {
    struct Case {
        const char* file_type;
        uint64_t ffn_width;
        GgmlType more_bits_layer, other_layer;  // ffn_down of layer 0 and layer 2
    };
    const Case cases[] = {
        {"Q4_K_M", 352, GgmlType::Q8_0, GgmlType::Q5_0},  // Q6_K -> Q8_0, Q4_K -> Q5_0
        {"Q5_K_M", 352, GgmlType::Q8_0, GgmlType::Q5_1},  // Q5_K -> Q5_1
        {"Q2_K", 352, GgmlType::Q4_0, GgmlType::Q4_0},    // Q3_K -> Q4_0
        {"IQ4_XS", 352, GgmlType::Q5_1, GgmlType::IQ4_NL},
        {"Q4_K_M", 172, GgmlType::F16, GgmlType::F16},  // not a multiple of 32 either
        {"Q4_0", 172, GgmlType::F16, GgmlType::F16},
        {"Q8_0", 172, GgmlType::F16, GgmlType::F16},
    };
    for (const Case& c : cases) {
        TensorList list = llama_tensors(/*tied=*/false, c.ffn_width);
        const FileType* ft = find_file_type(c.file_type);
        std::vector<MixChoice> choices = plan_mix(*ft, kLlama1B, list.view());
        for (size_t i = 0; i < choices.size(); ++i) {
            const std::string& name = list.names[i];
            if (name == "blk.0.ffn_down.weight" || name == "blk.2.ffn_down.weight") {
                EXPECT_EQ(choices[i].type, name[4] == '0' ? c.more_bits_layer : c.other_layer)
                    << c.file_type << " " << c.ffn_width << " " << name;
                EXPECT_TRUE(choices[i].fallback) << name;
            } else if (name == "blk.2.ffn_up.weight") {
                EXPECT_FALSE(choices[i].fallback) << name;
            }
        }
    }
    // An output whose rows do not fit the mix's blocks gets Q8_0 by the output rule.
    TensorList small;
    small.add("output.weight", 2, 64);
    EXPECT_EQ(plan("Q4_K_M", kLlama1B, small)["output.weight"], GgmlType::Q8_0);
    EXPECT_EQ(plan("Q4_0", kLlama1B, small)["output.weight"], GgmlType::Q8_0);  // Q6_K falls back
}

TEST(QuantMix, TensorsThatNeverChange) {
    TensorList list;
    list.add("blk.0.attn_norm.weight", 1, 2048);
    list.add("blk.0.attn_q.bias", 1, 2048);
    list.add("blk.0.ffn_gate_inp.weight", 2, 2048);  // MoE router
    list.add("position_embd.weight", 2, 2048);
    list.add("blk.0.ssm_conv1d.weight", 2, 4);
    list.add("blk.0.attn_q.weight_scale", 2, 2048);             // does not end in "weight"
    list.add("blk.0.ffn_norm.weight", 2, 2048, GgmlType::F16);  // 2-D norm: kept, F16 stays F16
    list.add("blk.0.attn_q.weight", 2, 2048);
    const FileType* ft = find_file_type("Q4_K_M");
    std::vector<MixChoice> choices = plan_mix(*ft, kLlama1B, list.view());
    for (size_t i = 0; i + 1 < choices.size(); ++i) {
        EXPECT_FALSE(choices[i].quantizable) << list.names[i];
        EXPECT_EQ(choices[i].type, list.tensors[i].type) << list.names[i];
    }
    EXPECT_TRUE(choices.back().quantizable);
    EXPECT_EQ(choices.back().type, GgmlType::Q4_K);
}

TEST(QuantMix, FloatFileTypesConvertEveryMatrixWithoutFallback) {
    TensorList list = llama_tensors(/*tied=*/false, 172);
    for (auto [name, type] :
         {std::pair{"F16", GgmlType::F16}, {"BF16", GgmlType::BF16}, {"F32", GgmlType::F32}}) {
        auto types = plan(name, kLlama1B, list);
        EXPECT_EQ(types["blk.0.ffn_down.weight"], type) << name;
        EXPECT_EQ(types["output.weight"], type) << name;
        EXPECT_EQ(types["token_embd.weight"], type) << name;
        EXPECT_EQ(types["blk.0.ffn_norm.weight"], GgmlType::F32) << name;
    }
}

TEST(QuantMix, EightExpertsAnd70BAndFalcon) {
    TensorList moe;
    moe.add("blk.0.attn_k.weight", 2, 4096);
    moe.add("blk.0.attn_v.weight", 2, 4096);
    moe.add("blk.0.attn_output.weight", 2, 4096);
    moe.add("blk.1.ffn_down_exps.weight", 3, 14336);
    moe.add("blk.0.ffn_down_exps.weight", 3, 14336);
    const MixModel mixtral{"llama", 32, 32, 8, 8};
    auto types = plan("Q4_K_M", mixtral, moe);
    EXPECT_EQ(types["blk.0.attn_k.weight"], GgmlType::Q8_0);
    EXPECT_EQ(types["blk.0.attn_v.weight"], GgmlType::Q8_0);
    EXPECT_EQ(types["blk.0.attn_output.weight"], GgmlType::Q5_K);
    // The layer comes from the name: layers 0-3 of 32 are use_more_bits, whatever the order.
    EXPECT_EQ(types["blk.1.ffn_down_exps.weight"], GgmlType::Q6_K);
    TensorList nameless;
    nameless.add("ffn_down_exps.weight", 3, 14336);
    EXPECT_THROW(plan_mix(*find_file_type("Q4_K_M"), mixtral, nameless.view()), Error);

    // 70B (80 layers, grouped KV heads): attn_v gets Q5_K where it would get Q4_K / Q3_K.
    TensorList big = llama_tensors(/*tied=*/false, 8192, 80);
    auto b = plan("Q4_K_M", MixModel{"llama", 80, 64, 8, 0}, big);
    EXPECT_EQ(b["blk.11.attn_v.weight"], GgmlType::Q5_K);  // (11 - 10) % 3 != 2: not more bits
    EXPECT_EQ(b["blk.12.attn_v.weight"], GgmlType::Q6_K);  // (12 - 10) % 3 == 2
    EXPECT_EQ(b["blk.11.attn_q.weight"], GgmlType::Q4_K);

    TensorList falcon = llama_tensors(/*tied=*/false);
    EXPECT_EQ(plan("Q4_K_M", MixModel{"falcon", 16, 32, 8, 0}, falcon)["output.weight"],
              GgmlType::Q8_0);
}

TEST(QuantMix, FileTypeTable) {
    EXPECT_EQ(find_file_type("q4_k_m"), find_file_type("Q4_K_M"));
    EXPECT_EQ(find_file_type("Q4_K_M")->id, FileTypeId::Q4_K_M);
    EXPECT_EQ(find_file_type("Q4_K_X"), nullptr);
    EXPECT_EQ(find_file_type(""), nullptr);
    EXPECT_EQ(find_file_type("Q2_K_S"), nullptr);  // needs an importance matrix
    // Names agree with the general.file_type names `loom inspect` prints, and every type a
    // mix can choose (base, upgrades, fallbacks) is one Loom can quantize to.
    for (const FileType& ft : quantize_file_types()) {
        EXPECT_EQ(gguf::file_type_name(static_cast<uint32_t>(ft.id)), ft.name);
        for (uint64_t width : {2048u, 352u, 172u}) {
            TensorList list = llama_tensors(/*tied=*/false, width);
            for (const MixChoice& c : plan_mix(ft, kLlama1B, list.view())) {
                const QuantType* qt = find_quant_type(c.type);
                ASSERT_NE(qt, nullptr) << ft.name << " " << gguf::ggml_type_name(c.type);
                EXPECT_NE(qt->quantize_row, nullptr);
            }
        }
    }
}

}  // namespace
}  // namespace loom::quant

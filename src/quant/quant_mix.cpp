// Quantization mixes: llama.cpp's per-tensor type rules, restricted to the file types Loom
// can write. The rule chain follows llama_tensor_get_type_impl branch by branch (the order
// of its else-ifs matters: the first matching branch decides), so a reader can check it
// against llama-quant.cpp line by line.
#include "quant/quant_mix.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <numeric>
#include <string>

#include "core/error.h"

namespace loom::quant {
namespace {

using gguf::GgmlType;
using Id = FileTypeId;

constexpr std::array<FileType, 19> kFileTypes = {{
    {Id::F32, "F32", GgmlType::F32},          {Id::F16, "F16", GgmlType::F16},
    {Id::Q4_0, "Q4_0", GgmlType::Q4_0},       {Id::Q4_1, "Q4_1", GgmlType::Q4_1},
    {Id::Q8_0, "Q8_0", GgmlType::Q8_0},       {Id::Q5_0, "Q5_0", GgmlType::Q5_0},
    {Id::Q5_1, "Q5_1", GgmlType::Q5_1},       {Id::Q2_K, "Q2_K", GgmlType::Q2_K},
    {Id::Q3_K_S, "Q3_K_S", GgmlType::Q3_K},   {Id::Q3_K_M, "Q3_K_M", GgmlType::Q3_K},
    {Id::Q3_K_L, "Q3_K_L", GgmlType::Q3_K},   {Id::Q4_K_S, "Q4_K_S", GgmlType::Q4_K},
    {Id::Q4_K_M, "Q4_K_M", GgmlType::Q4_K},   {Id::Q5_K_S, "Q5_K_S", GgmlType::Q5_K},
    {Id::Q5_K_M, "Q5_K_M", GgmlType::Q5_K},   {Id::Q6_K, "Q6_K", GgmlType::Q6_K},
    {Id::IQ4_NL, "IQ4_NL", GgmlType::IQ4_NL}, {Id::IQ4_XS, "IQ4_XS", GgmlType::IQ4_XS},
    {Id::BF16, "BF16", GgmlType::BF16},
}};

// llama.cpp's broad tensor categories (tensor_get_category): matched on substrings, so
// "blk.3.ffn_down_exps.weight" is FfnDown and "blk.0.attn_qkv.weight" is AttnQkv.
enum class Category {
    TokenEmbd,
    AttnQ,
    AttnV,
    AttnK,
    AttnQkv,
    AttnKvB,
    AttnOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Output,
    Other,
};

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != s.npos;
}

Category category_of(std::string_view name) {
    if (name == "output.weight") return Category::Output;
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight")
        return Category::TokenEmbd;
    if (contains(name, "attn_qkv.weight")) return Category::AttnQkv;
    if (contains(name, "attn_kv_b.weight")) return Category::AttnKvB;
    if (contains(name, "attn_v.weight")) return Category::AttnV;
    if (contains(name, "attn_k.weight")) return Category::AttnK;
    if (contains(name, "attn_q.weight")) return Category::AttnQ;
    if (contains(name, "attn_output.weight")) return Category::AttnOutput;
    if (contains(name, "ffn_up")) return Category::FfnUp;
    if (contains(name, "ffn_gate")) return Category::FfnGate;
    if (contains(name, "ffn_down")) return Category::FfnDown;
    return Category::Other;
}

// The value tensors (more sensitive to quantization) share one layer counter.
bool is_attn_v_like(Category c) {
    return c == Category::AttnV || c == Category::AttnQkv || c == Category::AttnKvB;
}

// Tensors whose name contains one of these are never quantized (tensor_allows_quantization):
// MoE routers, small per-architecture tensors (Gemma 3n altup/laurel, Mamba and RWKV
// parameters, T5 relative bias, multimodal projector parts, audio codebooks).
constexpr std::array<std::string_view, 34> kKeepSubstrings = {
    "_norm.weight",
    "ffn_gate_inp.weight",
    "ffn_gate_tid2eid.weight",
    "altup",
    "laurel",
    "per_layer_model_proj",
    "ssm_conv1d",
    "shortconv.conv.weight",
    "indexer.k_proj.weight",
    "indexer.q_proj.weight",
    "time_mix_first.weight",
    "time_mix_w0.weight",
    "time_mix_w1.weight",
    "time_mix_w2.weight",
    "time_mix_v0.weight",
    "time_mix_v1.weight",
    "time_mix_v2.weight",
    "time_mix_a0.weight",
    "time_mix_a1.weight",
    "time_mix_a2.weight",
    "time_mix_g1.weight",
    "time_mix_g2.weight",
    "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight",
    "attn_rel_b.weight",
    ".position_embd",
    "sam.pos_embd",
    "sam.neck.",
    "sam.net_",
    ".rel_pos",
    ".patch_embd",
    ".patch_merger",
    "a.rvq.codebook",
};

bool allows_quantization(const MixTensor& t, const MixOptions& options) {
    if (t.n_dims < 2) return false;  // norms, biases, scalars
    const std::string_view name = t.name;
    if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
    if (options.leave_output && name == "output.weight") return false;
    // Positional embeddings and BERT token types (LLM_TN names, the same in every arch).
    if (name == "position_embd.weight" || name == "token_types.weight") return false;
    if (contains(name, "mm.a.code_embd")) return false;
    return std::none_of(kKeepSubstrings.begin(), kKeepSubstrings.end(),
                        [&](std::string_view part) { return contains(name, part); });
}

bool is_quantized(GgmlType type) {
    return gguf::traits(type).quantized;
}

// "blk.12.attn_q.weight" -> 12; -1 when the name has no layer (sscanf "blk.%d." semantics).
int layer_of(std::string_view name) {
    if (name.substr(0, 4) != "blk.") return -1;
    size_t i = 4;
    bool negative = i < name.size() && name[i] == '-';
    if (negative || (i < name.size() && name[i] == '+')) ++i;
    if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
    long value = 0;
    for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) {
        value = std::min(value * 10 + (name[i] - '0'), 1L << 30);
    }
    return static_cast<int>(negative ? -value : value);
}

// Layers that get more bits in the _M mixes: the first and last eighth, every third between.
bool use_more_bits(int i_layer, int n_layer) {
    return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

// The counters llama.cpp keeps while it walks the tensors (quantize_state_impl).
struct MixState {
    const MixModel& model;
    Id ftype;
    bool tied_embeddings = true;  // until an output.weight is seen
    int n_attention_wv = 0;
    int i_attention_wv = 0;
    int i_ffn_down = 0;
    int i_ffn_gate = 0;
    int i_ffn_up = 0;

    bool falcon() const { return model.arch == "falcon"; }
    // An absent head_count_kv means one KV head per query head, as llama.cpp reads it.
    uint32_t n_head_kv() const { return model.n_head_kv == 0 ? model.n_head : model.n_head_kv; }
    bool is_70b() const {
        return model.arch == "llama" && model.n_layer == 80 && model.n_head != n_head_kv();
    }
    uint32_t n_gqa() const { return n_head_kv() == 0 ? 0 : model.n_head / n_head_kv(); }

    // (layer, n_layer) of an ffn tensor: the running counter in a dense model; in a MoE
    // model the name's layer, since expert tensors need not come one per layer.
    std::pair<int, int> layer_info(int counter, std::string_view name) const {
        const int n_layer = static_cast<int>(model.n_layer);
        if (model.n_expert <= 1) return {counter, n_layer};
        const int i_layer = layer_of(name);
        if (name.substr(0, 4) != "blk." || i_layer < 0 || i_layer >= n_layer) {
            throw Error(ErrorCode::Format, "tensor " + std::string(name) +
                                               ": cannot tell its layer in [0, " +
                                               std::to_string(n_layer) + ") from the name");
        }
        return {i_layer, n_layer};
    }
};

// llama_tensor_get_type_impl for the file types of kFileTypes (the IQ1-IQ3, TQ and MXFP4
// branches cannot be reached from them and are left out).
GgmlType mix_type(MixState& s, GgmlType type, const MixTensor& t, Category c) {
    const Id f = s.ftype;
    if (c == Category::Output || (s.tied_embeddings && c == Category::TokenEmbd)) {
        if (s.falcon() || t.ne0 % gguf::traits(type).block_size != 0) return GgmlType::Q8_0;
        return type == GgmlType::Q8_0 ? type : GgmlType::Q6_K;
    }
    if (c == Category::TokenEmbd) return type;
    if (is_attn_v_like(c)) {
        if (f == Id::Q2_K) {
            type = s.n_gqa() >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
        } else if (f == Id::Q3_K_M) {
            type = s.i_attention_wv < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
        } else if (f == Id::Q3_K_L) {
            type = GgmlType::Q5_K;
        } else if ((f == Id::IQ4_NL || f == Id::IQ4_XS) && s.n_gqa() >= 4) {
            type = GgmlType::Q5_K;
        } else if ((f == Id::Q4_K_M || f == Id::Q5_K_M) &&
                   use_more_bits(s.i_attention_wv, s.n_attention_wv)) {
            type = GgmlType::Q6_K;
        } else if (f == Id::Q4_K_S && s.i_attention_wv < 4) {
            type = GgmlType::Q5_K;
        }
        // 70B: 8 heads share each attn_v row, so the tensor is small and more bits are cheap.
        if (s.is_70b() && (type == GgmlType::Q3_K || type == GgmlType::Q4_K)) type = GgmlType::Q5_K;
        if (s.model.n_expert == 8) type = GgmlType::Q8_0;
        ++s.i_attention_wv;
        return type;
    }
    if (c == Category::AttnK) return s.model.n_expert == 8 ? GgmlType::Q8_0 : type;
    if (c == Category::AttnQ) return type;
    if (c == Category::FfnDown) {
        auto [i_layer, n_layer] = s.layer_info(s.i_ffn_down, t.name);
        ++s.i_ffn_down;
        if (f == Id::Q2_K) return GgmlType::Q3_K;
        if (f == Id::Q3_K_M) {
            if (i_layer < n_layer / 16) return GgmlType::Q5_K;
            return !s.falcon() || use_more_bits(i_layer, n_layer) ? GgmlType::Q4_K : GgmlType::Q3_K;
        }
        if (f == Id::Q3_K_L) return s.falcon() ? GgmlType::Q4_K : GgmlType::Q5_K;
        if (f == Id::Q4_K_M) {
            if (s.falcon()) {
                return i_layer < n_layer / 16            ? GgmlType::Q6_K
                       : use_more_bits(i_layer, n_layer) ? GgmlType::Q5_K
                                                         : GgmlType::Q4_K;
            }
            return use_more_bits(i_layer, n_layer) ? GgmlType::Q6_K : type;
        }
        if (i_layer < n_layer / 8 && (f == Id::IQ4_NL || f == Id::IQ4_XS)) return GgmlType::Q5_K;
        if (f == Id::Q5_K_M && use_more_bits(i_layer, n_layer)) return GgmlType::Q6_K;
        if (f == Id::Q4_K_S && !s.falcon() && i_layer < n_layer / 8) return GgmlType::Q5_K;
        return type;
    }
    if (c == Category::AttnOutput) {
        if (s.falcon()) return f == Id::Q3_K_L ? GgmlType::Q4_K : type;
        if (s.model.n_expert == 8) {
            const bool more = f == Id::Q2_K || f == Id::Q3_K_S || f == Id::Q3_K_M ||
                              f == Id::IQ4_NL || f == Id::Q4_K_S || f == Id::Q4_K_M ||
                              f == Id::IQ4_XS;
            return more ? GgmlType::Q5_K : type;
        }
        if (f == Id::Q2_K) return GgmlType::Q3_K;
        if (f == Id::Q3_K_M) return GgmlType::Q4_K;
        if (f == Id::Q3_K_L) return GgmlType::Q5_K;
        return type;
    }
    // ffn_gate / ffn_up: only the IQ3_XS mix changes them, but the layer is still checked.
    if (c == Category::FfnGate) s.layer_info(s.i_ffn_gate++, t.name);
    if (c == Category::FfnUp) s.layer_info(s.i_ffn_up++, t.name);
    return type;
}

// tensor_type_fallback: a type whose block does not divide the row length.
GgmlType fit_row(GgmlType type, uint64_t ne0, bool& fell_back) {
    fell_back = ne0 % gguf::traits(type).block_size != 0;
    if (!fell_back) return type;
    switch (type) {
        case GgmlType::IQ4_XS:
            type = GgmlType::IQ4_NL;
            break;
        case GgmlType::Q2_K:
        case GgmlType::Q3_K:
            type = GgmlType::Q4_0;
            break;
        case GgmlType::Q4_K:
            type = GgmlType::Q5_0;
            break;
        case GgmlType::Q5_K:
            type = GgmlType::Q5_1;
            break;
        case GgmlType::Q6_K:
            type = GgmlType::Q8_0;
            break;
        default:
            break;  // the 32-element types have nothing smaller but F16
    }
    return ne0 % gguf::traits(type).block_size == 0 ? type : GgmlType::F16;
}

}  // namespace

std::span<const FileType> quantize_file_types() {
    return kFileTypes;
}

const FileType* find_file_type(std::string_view name) {
    for (const FileType& ft : kFileTypes) {
        const bool same = name.size() == ft.name.size() &&
                          std::equal(name.begin(), name.end(), ft.name.begin(), [](char a, char b) {
                              return std::toupper(static_cast<unsigned char>(a)) == b;
                          });
        if (same) return &ft;
    }
    return nullptr;
}

std::vector<MixChoice> plan_mix(const FileType& file_type, const MixModel& model,
                                std::span<const MixTensor> tensors, const MixOptions& options) {
    MixState state{model, file_type.id};
    std::vector<Category> categories(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        categories[i] = category_of(tensors[i].name);
        if (is_attn_v_like(categories[i])) ++state.n_attention_wv;
        if (categories[i] == Category::Output) state.tied_embeddings = false;
    }
    // llama.cpp walks the tensors sorted by layer (non-layer tensors first), then by name;
    // the counters above depend on that order.
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const int la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
        return la != lb ? la < lb : tensors[a].name < tensors[b].name;
    });

    std::vector<MixChoice> choices(tensors.size());
    for (size_t i : order) {
        const MixTensor& t = tensors[i];
        MixChoice& choice = choices[i];
        choice.quantizable = allows_quantization(t, options);
        if (!choice.quantizable) {
            choice.type = t.type;
            continue;
        }
        choice.type = file_type.base;
        if (is_quantized(file_type.base)) {
            choice.type =
                fit_row(mix_type(state, file_type.base, t, categories[i]), t.ne0, choice.fallback);
        }
    }
    return choices;
}

}  // namespace loom::quant

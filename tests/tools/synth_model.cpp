// synth_model: writes a small random-weight model of one architecture and one tensor type
// with Loom's own GGUF writer and quantizers, for the end-to-end comparison with llama.cpp
// (tests/python/test_synthetic.py). Everything follows from the seed: each tensor's values
// come from a generator seeded with (seed, tensor name), so an option that adds a tensor
// (--rope-freqs, --longrope) leaves every other tensor as it was.
//
//   synth_model --arch ARCH --type TYPE --vocab-from VOCAB.gguf --seed N -o OUT.gguf
//               [--layers L] [--embd E] [--ff F] [--heads H] [--kv-heads K] [--head-dim D]
//               [--experts N] [--experts-used K] [--expert-ff F] [--shared-ff F]
//               [--swa W] [--ctx-train N] [--rope-freqs]
//               [--rope-scaling linear:FACTOR | yarn:FACTOR[:ORIG_CTX]] [--rope-attn-factor X]
//               [--longrope ORIG_CTX]
//
// ARCH: llama, mixtral (arch "llama" with experts; also --arch llama --experts N), qwen2,
// qwen3, qwen2moe, qwen3moe, gemma3, phi3. TYPE: any type of Loom's quant table except the
// activation-only q8_1 and q8_K (f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_K..q6_K iq4_nl
// iq4_xs). Matrices (2-D and 3-D) get TYPE; norms, biases, the MoE routers (ffn_gate_inp,
// ffn_gate_inp_shexp) and the RoPE factors stay F32, as llama.cpp's quantizer keeps them. The
// tokenizer.* keys are copied from VOCAB, and n_vocab is its token count.
//
// RoPE metadata as llama.cpp's converter (convert_hf_to_gguf.py) writes it:
// --ctx-train N: {arch}.context_length (default 4096).
// --rope-scaling: {arch}.rope.scaling.type "linear" or "yarn" and .factor; yarn with ORIG_CTX
//   also .original_context_length (without it llama.cpp and Loom take context_length).
// --longrope ORIG_CTX (phi3): Phi3MiniModel's LongRoPE (Phi-3 128k): rope_factors_long.weight
//   and rope_factors_short.weight [n_rot / 2], .original_context_length ORIG_CTX and
//   .attn_factor sqrt(1 + ln(ctx_train / ORIG_CTX) / ln(ORIG_CTX)) (1 when ctx_train <=
//   ORIG_CTX), and no .scaling.type, as the converter does. The runtime takes the long factors
//   when its context size exceeds ORIG_CTX, else the short ones.
// --rope-attn-factor X: {arch}.rope.scaling.attn_factor X (replaces --longrope's value).
//
// Tensor names and shapes (GGUF order, ne[0] contiguous) are llama.cpp's:
// src/llama-arch.cpp (names), src/llama-model.cpp load_tensors (shapes). Value scales keep
// activations near unit size: matrices normal with std 1/sqrt(fan_in), norm weights
// 1 + noise of std 0.1, biases std 0.1; see kScale* below.
// Not here: tokenizer synthesis (the vocabulary always comes from a file), real-model
// value statistics, and the architectures llama.cpp has but this project does not use.
// Exit status: 0 success, 1 a loom::Error (I/O, a bad vocabulary file), 2 bad usage.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/quant_type.h"

namespace {

using loom::gguf::GgmlType;
using loom::gguf::GgufFile;
using loom::gguf::GgufWriter;

constexpr int kExitUsage = 2;

// Value scales (standard deviations). Matrices: 1/sqrt(fan_in), so a unit-RMS input gives
// unit-RMS outputs. The output projection is 4x that, so that logits spread over about
// +-12 and the argmax is usually clear of the runner-up. Untied token embeddings are
// N(0, 1) (unit-RMS residual stream from the start); tied ones (gemma3) are scaled like the
// output projection, and Gemma's sqrt(n_embd) embedding scale brings the residual to RMS 4.
// Routers are 2x a plain matrix: router logits of std 2 give gate weights that differ
// clearly between experts (so a wrong routing rule shows) without one expert taking all.
constexpr double kScaleOutput = 4.0;
constexpr double kScaleRouter = 2.0;
constexpr double kScaleNormNoise = 0.1;
constexpr double kScaleBias = 0.1;

// A usage error: a bad flag or an inconsistent combination (exit 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---- architectures as data -------------------------------------------------------------

enum class Moe {
    None,
    Routed,        // ffn_gate_inp + ffn_{gate,up,down}_exps (mixtral, qwen3moe)
    RoutedShared,  // the above plus a sigmoid-gated shared expert (qwen2moe)
};

struct ArchInfo {
    std::string_view name;           // --arch
    std::string_view gguf_arch;      // general.architecture and key prefix
    bool qkv_bias = false;           // attn_{q,k,v}.bias
    bool qk_norm = false;            // attn_{q,k}_norm [head_dim]
    bool post_norms = false;         // post_attention_norm, post_ffw_norm
    bool output_tied = false;        // no output.weight
    bool fused = false;              // attn_qkv; ffn_up [E, 2F] (gate half first), no ffn_gate
    bool key_length_always = false;  // attention.key_length/value_length even when implied
    Moe moe = Moe::None;
    bool expert_ff_key = false;  // experts sized by expert_feed_forward_length, not n_ff
    uint32_t layers = 2;
    uint32_t experts = 0;  // default expert count (0: dense)
    uint32_t swa = 0;      // default sliding window (0: the arch has none)
    double rope_freq_base = 1e4;
    float rms_eps = 1e-5f;
};

// One architecture per entry reads better than one field per line:
// clang-format off
constexpr ArchInfo kArchs[] = {
    {.name = "llama", .gguf_arch = "llama"},
    {.name = "mixtral", .gguf_arch = "llama", .moe = Moe::Routed, .experts = 4},
    {.name = "qwen2", .gguf_arch = "qwen2", .qkv_bias = true, .rms_eps = 1e-6f},
    {.name = "qwen3", .gguf_arch = "qwen3", .qk_norm = true, .key_length_always = true,
     .rms_eps = 1e-6f},
    {.name = "qwen2moe", .gguf_arch = "qwen2moe", .qkv_bias = true, .moe = Moe::RoutedShared,
     .expert_ff_key = true, .experts = 4, .rms_eps = 1e-6f},
    {.name = "qwen3moe", .gguf_arch = "qwen3moe", .qk_norm = true, .key_length_always = true,
     .moe = Moe::Routed, .expert_ff_key = true, .experts = 4, .rms_eps = 1e-6f},
    // Six layers: five sliding-window layers, then the first global one.
    {.name = "gemma3", .gguf_arch = "gemma3", .qk_norm = true, .post_norms = true,
     .output_tied = true, .key_length_always = true, .layers = 6, .swa = 4,
     .rope_freq_base = 1e6, .rms_eps = 1e-6f},
    // No sliding window: llama.cpp ignores Phi-3's ("Phi SWA is currently disabled", PR 13676).
    {.name = "phi3", .gguf_arch = "phi3", .fused = true},
};
// clang-format on

const ArchInfo* find_arch(std::string_view name) {
    for (const ArchInfo& a : kArchs) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

// ---- options -----------------------------------------------------------------------------

// --rope-scaling: the rope.scaling.* keys to write.
struct RopeScaling {
    std::string_view type;  // "linear", "yarn"; empty: no scaling keys
    float factor = 0.0f;    // rope.scaling.factor
    uint32_t orig_ctx = 0;  // rope.scaling.original_context_length (yarn); 0: not written
};

struct Options {
    const ArchInfo* arch = nullptr;
    const loom::quant::QuantType* type = nullptr;
    std::string vocab_path;
    std::string out_path;
    uint64_t seed = 0;
    bool seed_set = false;
    uint32_t n_layer = 0;  // 0: the arch's default
    uint32_t n_embd = 256;
    uint32_t n_ff = 512;
    uint32_t n_head = 4;
    uint32_t n_head_kv = 2;
    uint32_t head_dim = 0;  // 0: n_embd / n_head
    std::optional<uint32_t> n_expert;
    uint32_t n_expert_used = 2;
    uint32_t n_ff_exp = 256;
    uint32_t n_ff_shexp = 512;
    std::optional<uint32_t> n_swa;
    uint32_t n_ctx_train = 4096;
    bool rope_freqs = false;
    RopeScaling rope_scaling;
    std::optional<float> rope_attn_factor;
    uint32_t longrope_orig_ctx = 0;  // 0: no LongRoPE factors
};

const char* const kUsage =
    "usage: synth_model --arch ARCH --type TYPE --vocab-from VOCAB.gguf --seed N -o OUT.gguf\n"
    "       [--layers L] [--embd E] [--ff F] [--heads H] [--kv-heads K] [--head-dim D]\n"
    "       [--experts N] [--experts-used K] [--expert-ff F] [--shared-ff F] [--swa W]\n"
    "       [--ctx-train N] [--rope-freqs]\n"
    "       [--rope-scaling linear:FACTOR | yarn:FACTOR[:ORIG_CTX]] [--rope-attn-factor X]\n"
    "       [--longrope ORIG_CTX]\n"
    "ARCH: llama mixtral qwen2 qwen3 qwen2moe qwen3moe gemma3 phi3\n"
    "TYPE: f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_K q3_K q4_K q5_K q6_K iq4_nl iq4_xs\n";

uint64_t parse_u64(std::string_view flag, const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 19) {
        throw UsageError(std::string(flag) + ": expected a non-negative integer, got \"" + text +
                         "\"");
    }
    return std::stoull(text);
}

uint32_t parse_count(std::string_view flag, const std::string& text) {
    uint64_t v = parse_u64(flag, text);
    if (v == 0 || v > 65536) {
        throw UsageError(std::string(flag) + ": expected 1 to 65536, got " + text);
    }
    return static_cast<uint32_t>(v);
}

const loom::quant::QuantType* parse_type(const std::string& name) {
    for (const loom::quant::QuantType& qt : loom::quant::quant_types()) {
        // Q8_1 and Q8_K only ever hold activations (no vec_dot), never weights.
        if (qt.name == name && qt.vec_dot != nullptr) return &qt;
    }
    throw UsageError("--type: unknown or unsupported tensor type \"" + name + "\"");
}

// A float in [lo, hi], the whole text.
float parse_float(std::string_view flag, const std::string& text, float lo, float hi) {
    size_t used = 0;
    float f = 0.0f;
    try {
        f = std::stof(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || !(f >= lo && f <= hi)) {
        char range[64];
        std::snprintf(range, sizeof range, "between %g and %g", lo, hi);
        throw UsageError(std::string(flag) + ": expected a number " + range + ", got \"" + text +
                         "\"");
    }
    return f;
}

// linear:FACTOR or yarn:FACTOR[:ORIG_CTX].
RopeScaling parse_rope_scaling(const std::string& text) {
    const std::string flag = "--rope-scaling";
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        size_t colon = text.find(':', start);
        parts.push_back(text.substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    RopeScaling r;
    if (parts[0] == "linear" && parts.size() == 2) {
        r.type = "linear";
    } else if (parts[0] == "yarn" && (parts.size() == 2 || parts.size() == 3)) {
        r.type = "yarn";
        if (parts.size() == 3) r.orig_ctx = parse_count(flag + " ORIG_CTX", parts[2]);
    } else {
        throw UsageError(flag + ": expected linear:FACTOR or yarn:FACTOR[:ORIG_CTX], got \"" +
                         text + "\"");
    }
    r.factor = parse_float(flag + " FACTOR", parts[1], 1.0f, 1024.0f);
    return r;
}

Options parse_args(const std::vector<std::string>& args) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& flag = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw UsageError(flag + ": missing value");
            return args[++i];
        };
        if (flag == "--arch") {
            const std::string& name = value();
            o.arch = find_arch(name);
            if (o.arch == nullptr) {
                throw UsageError("--arch: unknown architecture \"" + name + "\"");
            }
        } else if (flag == "--type") {
            o.type = parse_type(value());
        } else if (flag == "--vocab-from") {
            o.vocab_path = value();
        } else if (flag == "-o" || flag == "--output") {
            o.out_path = value();
        } else if (flag == "--seed") {
            o.seed = parse_u64(flag, value());
            o.seed_set = true;
        } else if (flag == "--layers") {
            o.n_layer = parse_count(flag, value());
        } else if (flag == "--embd") {
            o.n_embd = parse_count(flag, value());
        } else if (flag == "--ff") {
            o.n_ff = parse_count(flag, value());
        } else if (flag == "--heads") {
            o.n_head = parse_count(flag, value());
        } else if (flag == "--kv-heads") {
            o.n_head_kv = parse_count(flag, value());
        } else if (flag == "--head-dim") {
            o.head_dim = parse_count(flag, value());
        } else if (flag == "--experts") {
            o.n_expert = parse_count(flag, value());
        } else if (flag == "--experts-used") {
            o.n_expert_used = parse_count(flag, value());
        } else if (flag == "--expert-ff") {
            o.n_ff_exp = parse_count(flag, value());
        } else if (flag == "--shared-ff") {
            o.n_ff_shexp = parse_count(flag, value());
        } else if (flag == "--swa") {
            o.n_swa = parse_count(flag, value());
        } else if (flag == "--rope-freqs") {
            o.rope_freqs = true;
        } else if (flag == "--rope-scaling") {
            o.rope_scaling = parse_rope_scaling(value());
        } else if (flag == "--rope-attn-factor") {
            o.rope_attn_factor = parse_float(flag, value(), 0.01f, 100.0f);
        } else if (flag == "--ctx-train") {
            o.n_ctx_train = parse_count(flag, value());
        } else if (flag == "--longrope") {
            o.longrope_orig_ctx = parse_count(flag, value());
            if (o.longrope_orig_ctx < 2) {
                throw UsageError("--longrope: the original context must be at least 2 (its "
                                 "logarithm divides the attention factor)");
            }
        } else {
            throw UsageError("unknown argument \"" + flag + "\"");
        }
    }
    if (o.arch == nullptr || o.type == nullptr || o.vocab_path.empty() || o.out_path.empty() ||
        !o.seed_set) {
        throw UsageError("--arch, --type, --vocab-from, --seed and -o are required");
    }
    // Mixtral is "llama" with experts: --arch llama --experts N says the same.
    if (o.arch->name == "llama" && o.n_expert) o.arch = find_arch("mixtral");
    return o;
}

// The model's sizes after defaults, checked for consistency (UsageError when not).
struct Dims {
    uint32_t n_vocab = 0, n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0,
             head_dim = 0;
    uint32_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0, n_ff_shexp = 0, n_swa = 0;
    uint32_t n_embd_q() const { return n_head * head_dim; }
    uint32_t n_embd_kv() const { return n_head_kv * head_dim; }
};

Dims resolve_dims(const Options& o) {
    const ArchInfo& a = *o.arch;
    Dims d;
    d.n_layer = o.n_layer != 0 ? o.n_layer : a.layers;
    d.n_embd = o.n_embd;
    d.n_ff = o.n_ff;
    d.n_head = o.n_head;
    d.n_head_kv = o.n_head_kv;
    if (d.n_head % d.n_head_kv != 0) {
        throw UsageError("--kv-heads " + std::to_string(d.n_head_kv) + " must divide --heads " +
                         std::to_string(d.n_head));
    }
    if (o.head_dim == 0 && d.n_embd % d.n_head != 0) {
        throw UsageError("--heads " + std::to_string(d.n_head) + " must divide --embd " +
                         std::to_string(d.n_embd) + " (or give --head-dim)");
    }
    d.head_dim = o.head_dim != 0 ? o.head_dim : d.n_embd / d.n_head;
    if (d.head_dim % 2 != 0) {
        throw UsageError("the head dimension must be even (RoPE rotates pairs)");
    }
    if (a.moe == Moe::None) {
        if (o.n_expert) {
            throw UsageError("--experts: architecture " + std::string(a.name) + " is dense");
        }
    } else {
        d.n_expert = o.n_expert.value_or(a.experts);
        d.n_expert_used = o.n_expert_used;
        if (d.n_expert_used > d.n_expert) {
            throw UsageError("--experts-used " + std::to_string(d.n_expert_used) +
                             " exceeds --experts " + std::to_string(d.n_expert));
        }
        d.n_ff_exp = a.expert_ff_key ? o.n_ff_exp : d.n_ff;
        if (a.moe == Moe::RoutedShared) d.n_ff_shexp = o.n_ff_shexp;
    }
    if (o.n_swa && a.swa == 0) {
        throw UsageError("--swa: architecture " + std::string(a.name) +
                         " has no sliding window here");
    }
    d.n_swa = o.n_swa.value_or(a.swa);
    if (o.rope_freqs && a.gguf_arch != "llama") {
        throw UsageError("--rope-freqs: only the llama architecture reads rope_freqs.weight");
    }
    if (o.longrope_orig_ctx != 0 && a.gguf_arch != "phi3") {
        throw UsageError("--longrope: only the phi3 architecture reads rope_factors_long/short");
    }
    if (o.longrope_orig_ctx != 0 && !o.rope_scaling.type.empty()) {
        throw UsageError("--longrope with --rope-scaling: Phi-3's converter writes one or neither");
    }
    // Every row (ne[0]) must hold whole blocks of the type.
    const uint32_t block = o.type->block_size;
    const std::pair<const char*, uint32_t> rows[] = {{"--embd", d.n_embd},
                                                     {"--heads x --head-dim", d.n_embd_q()},
                                                     {"--ff", d.n_ff},
                                                     {"--expert-ff", d.n_ff_exp},
                                                     {"--shared-ff", d.n_ff_shexp}};
    for (const auto& [what, n] : rows) {
        if (n % block != 0) {
            throw UsageError(std::string(what) + " = " + std::to_string(n) +
                             " is not a multiple of " + std::to_string(block) +
                             ", the block size of " + std::string(o.type->name));
        }
    }
    return d;
}

// ---- deterministic values -----------------------------------------------------------------

// SplitMix64 with a Box-Muller normal: the same bits on every platform and standard library
// (std::normal_distribution's algorithm is implementation-defined).
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double normal() {
        double u1 = (static_cast<double>(next() >> 11) + 1.0) * 0x1p-53;  // (0, 1]
        double u2 = static_cast<double>(next() >> 11) * 0x1p-53;          // [0, 1)
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    }

private:
    uint64_t state_;
};

// The generator of one tensor: the global seed mixed with the FNV-1a hash of its name.
Rng tensor_rng(uint64_t seed, std::string_view name) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    Rng mix(seed ^ h);
    return Rng(mix.next());
}

// ---- the model -------------------------------------------------------------------------------

class ModelWriter {
public:
    explicit ModelWriter(const Options& o) : o_(o) {}

    GgufWriter& writer() { return w_; }

    // A matrix of the chosen type: N(0, (scale / sqrt(ne[0]))^2), quantized row by row.
    void matrix(const std::string& name, std::vector<uint64_t> shape, double scale = 1.0) {
        std::vector<float> values =
            normal_values(name, shape, scale / std::sqrt(static_cast<double>(shape[0])), 0.0);
        const loom::quant::QuantType& qt = *o_.type;
        const int64_t ne0 = static_cast<int64_t>(shape[0]);
        const size_t n_rows = values.size() / shape[0];
        std::vector<uint8_t> data(n_rows * loom::quant::row_bytes(qt, ne0));
        for (size_t r = 0; r < n_rows; ++r) {
            qt.quantize_row(values.data() + r * shape[0],
                            data.data() + r * loom::quant::row_bytes(qt, ne0), ne0);
        }
        w_.add_tensor(name, qt.type, std::span<const uint64_t>(shape), data);
    }

    // An F32 tensor: N(mean, std^2).
    void f32(const std::string& name, std::vector<uint64_t> shape, double std, double mean) {
        f32_values(name, shape, normal_values(name, shape, std, mean));
    }

    void f32_values(const std::string& name, std::vector<uint64_t> shape,
                    const std::vector<float>& values) {
        std::vector<uint8_t> data(values.size() * sizeof(float));
        std::memcpy(data.data(), values.data(), data.size());
        w_.add_tensor(name, GgmlType::F32, std::span<const uint64_t>(shape), data);
    }

    void norm(const std::string& name, uint64_t n) { f32(name, {n}, kScaleNormNoise, 1.0); }
    void bias(const std::string& name, uint64_t n) { f32(name, {n}, kScaleBias, 0.0); }

private:
    std::vector<float> normal_values(const std::string& name, const std::vector<uint64_t>& shape,
                                     double std, double mean) const {
        uint64_t n = 1;
        for (uint64_t ne : shape) n *= ne;
        Rng rng = tensor_rng(o_.seed, name);
        std::vector<float> out(n);
        for (float& v : out) v = static_cast<float>(mean + std * rng.normal());
        return out;
    }

    const Options& o_;
    GgufWriter w_;
};

// LongRoPE's per-dimension divisors [n_rot / 2], ascending with the dimension as in
// Phi-3.5-mini's config.json (long_factor 1.08 to 64.8, short_factor 1.0 to 2.84): uniform
// in [1, hi], sorted. Long and short differ at every dimension, so that the choice between
// them shows at small positions too (the highest frequencies turn ~1 radian per position).
std::vector<float> longrope_factors(uint64_t seed, std::string_view name, uint32_t n, double hi) {
    Rng rng = tensor_rng(seed, name);
    std::vector<float> out(n);
    for (float& f : out) {
        f = static_cast<float>(1.0 + (hi - 1.0) * static_cast<double>(rng.next() >> 11) * 0x1p-53);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Llama 3 frequency factors (the converter's LlamaModel.generate_extra_tensors): factor 8,
// low 1, high 4, but an original context of 64 instead of 8192, so that at the test's
// ~24 positions most of the head's frequencies are scaled (a factor only shows in the
// angle pos * freq / factor when that angle is not already negligible).
std::vector<float> llama3_rope_factors(uint32_t head_dim, double freq_base) {
    const double factor = 8.0, low = 1.0, high = 4.0, original_context = 64.0;
    std::vector<float> out;
    for (uint32_t i = 0; i < head_dim; i += 2) {
        double freq = std::pow(freq_base, -static_cast<double>(i) / head_dim);
        double wavelen = 2.0 * M_PI / freq;
        double f = 0.0;
        if (wavelen < original_context / high) {
            f = 1.0;
        } else if (wavelen > original_context / low) {
            f = factor;
        } else {
            double smooth = (original_context / wavelen - low) / (high - low);
            f = 1.0 / ((1.0 - smooth) / factor + smooth);
        }
        out.push_back(static_cast<float>(f));
    }
    return out;
}

void write_metadata(GgufWriter& w, const Options& o, const Dims& d, const GgufFile& vocab) {
    const ArchInfo& a = *o.arch;
    const std::string p = std::string(a.gguf_arch) + ".";
    w.add("general.architecture", a.gguf_arch);
    // Not the architecture's name: llama.cpp gives the tokens of a model whose general.name
    // contains "phi3" Phi-3's strip attributes, and fails on a vocabulary without
    // <|endoftext|> (llama-vocab.cpp, per-token attributes by model name).
    w.add("general.name", "loom synthetic model");
    w.add(p + "context_length", o.n_ctx_train);
    w.add(p + "embedding_length", d.n_embd);
    w.add(p + "block_count", d.n_layer);
    w.add(p + "feed_forward_length", d.n_ff);
    w.add(p + "attention.head_count", d.n_head);
    w.add(p + "attention.head_count_kv", d.n_head_kv);
    if (a.key_length_always || d.head_dim * d.n_head != d.n_embd) {
        w.add(p + "attention.key_length", d.head_dim);
        w.add(p + "attention.value_length", d.head_dim);
    }
    w.add(p + "attention.layer_norm_rms_epsilon", a.rms_eps);
    w.add(p + "rope.freq_base", static_cast<float>(a.rope_freq_base));
    w.add(p + "rope.dimension_count", d.head_dim);
    if (!o.rope_scaling.type.empty()) {
        w.add(p + "rope.scaling.type", o.rope_scaling.type);
        w.add(p + "rope.scaling.factor", o.rope_scaling.factor);
        if (o.rope_scaling.orig_ctx != 0) {
            w.add(p + "rope.scaling.original_context_length", o.rope_scaling.orig_ctx);
        }
    }
    std::optional<float> attn_factor = o.rope_attn_factor;
    if (o.longrope_orig_ctx != 0) {
        w.add(p + "rope.scaling.original_context_length", o.longrope_orig_ctx);
        // Phi3MiniModel.set_gguf_parameters: the "su" / "longrope" magnitude.
        const double scale = static_cast<double>(o.n_ctx_train) / o.longrope_orig_ctx;
        const double ln_orig = std::log(static_cast<double>(o.longrope_orig_ctx));
        const double longrope_attn = scale > 1.0 ? std::sqrt(1.0 + std::log(scale) / ln_orig) : 1.0;
        if (!attn_factor) attn_factor = static_cast<float>(longrope_attn);
    }
    if (attn_factor) w.add(p + "rope.scaling.attn_factor", *attn_factor);
    if (d.n_swa != 0) w.add(p + "attention.sliding_window", d.n_swa);
    if (a.moe != Moe::None) {
        w.add(p + "expert_count", d.n_expert);
        w.add(p + "expert_used_count", d.n_expert_used);
        if (a.expert_ff_key) w.add(p + "expert_feed_forward_length", d.n_ff_exp);
        if (a.moe == Moe::RoutedShared) {
            w.add(p + "expert_shared_feed_forward_length", d.n_ff_shexp);
        }
    }
    for (const auto& kv : vocab.metadata()) {
        if (kv.key.starts_with("tokenizer.")) w.add_value(kv.key, kv.value);
    }
}

void write_layer(ModelWriter& m, const ArchInfo& a, const Dims& d, uint32_t il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    const uint64_t E = d.n_embd, Q = d.n_embd_q(), KV = d.n_embd_kv(), D = d.head_dim;
    m.norm(b + "attn_norm.weight", E);
    if (a.fused) {
        m.matrix(b + "attn_qkv.weight", {E, Q + 2 * KV});
    } else {
        m.matrix(b + "attn_q.weight", {E, Q});
        m.matrix(b + "attn_k.weight", {E, KV});
        m.matrix(b + "attn_v.weight", {E, KV});
    }
    if (a.qkv_bias) {
        m.bias(b + "attn_q.bias", Q);
        m.bias(b + "attn_k.bias", KV);
        m.bias(b + "attn_v.bias", KV);
    }
    if (a.qk_norm) {
        m.norm(b + "attn_q_norm.weight", D);
        m.norm(b + "attn_k_norm.weight", D);
    }
    m.matrix(b + "attn_output.weight", {Q, E});
    if (a.post_norms) m.norm(b + "post_attention_norm.weight", E);
    m.norm(b + "ffn_norm.weight", E);
    if (a.moe != Moe::None) {
        const uint64_t X = d.n_expert, FE = d.n_ff_exp;
        m.f32(b + "ffn_gate_inp.weight", {E, X}, kScaleRouter / std::sqrt(static_cast<double>(E)),
              0.0);
        m.matrix(b + "ffn_gate_exps.weight", {E, FE, X});
        m.matrix(b + "ffn_up_exps.weight", {E, FE, X});
        m.matrix(b + "ffn_down_exps.weight", {FE, E, X});
        if (a.moe == Moe::RoutedShared) {
            const uint64_t FS = d.n_ff_shexp;
            m.f32(b + "ffn_gate_inp_shexp.weight", {E},
                  kScaleRouter / std::sqrt(static_cast<double>(E)), 0.0);
            m.matrix(b + "ffn_gate_shexp.weight", {E, FS});
            m.matrix(b + "ffn_up_shexp.weight", {E, FS});
            m.matrix(b + "ffn_down_shexp.weight", {FS, E});
        }
    } else if (a.fused) {
        m.matrix(b + "ffn_up.weight", {E, 2 * uint64_t{d.n_ff}});
        m.matrix(b + "ffn_down.weight", {d.n_ff, E});
    } else {
        m.matrix(b + "ffn_gate.weight", {E, d.n_ff});
        m.matrix(b + "ffn_up.weight", {E, d.n_ff});
        m.matrix(b + "ffn_down.weight", {d.n_ff, E});
    }
    if (a.post_norms) m.norm(b + "post_ffw_norm.weight", E);
}

int synth_model(const Options& o) {
    Dims d = resolve_dims(o);
    GgufFile vocab = GgufFile::open(o.vocab_path);
    if (!vocab.has("tokenizer.ggml.tokens")) {
        throw loom::Error(loom::ErrorCode::NotFound,
                          o.vocab_path + ": no tokenizer.ggml.tokens: not a vocabulary");
    }
    const uint64_t n_vocab =
        vocab.get_array("tokenizer.ggml.tokens", loom::gguf::ValueType::String).count;
    if (n_vocab == 0 || n_vocab > (1u << 20)) {
        throw loom::Error(
            loom::ErrorCode::OutOfRange,
            o.vocab_path + ": " + std::to_string(n_vocab) + " tokens: expected 1 to 2^20");
    }
    d.n_vocab = static_cast<uint32_t>(n_vocab);
    const ArchInfo& a = *o.arch;
    ModelWriter m(o);
    write_metadata(m.writer(), o, d, vocab);

    const uint64_t E = d.n_embd, V = d.n_vocab;
    // Untied embeddings N(0, 1): m.matrix's scale is relative to 1/sqrt(ne[0]).
    m.matrix("token_embd.weight", {E, V},
             a.output_tied ? kScaleOutput : std::sqrt(static_cast<double>(E)));
    for (uint32_t il = 0; il < d.n_layer; ++il) write_layer(m, a, d, il);
    m.norm("output_norm.weight", E);
    if (!a.output_tied) m.matrix("output.weight", {E, V}, kScaleOutput);
    if (o.rope_freqs) {
        m.f32_values("rope_freqs.weight", {d.head_dim / 2},
                     llama3_rope_factors(d.head_dim, a.rope_freq_base));
    }
    if (o.longrope_orig_ctx != 0) {
        for (const auto& [name, hi] : {std::pair{"rope_factors_long.weight", 20.0},
                                       std::pair{"rope_factors_short.weight", 2.0}}) {
            m.f32_values(name, {d.head_dim / 2},
                         longrope_factors(o.seed, name, d.head_dim / 2, hi));
        }
    }
    m.writer().write_file(o.out_path);
    std::cout << o.out_path << ": " << a.name << " (" << a.gguf_arch << "), " << o.type->name
              << ", " << d.n_layer << " layers, n_vocab " << d.n_vocab << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return synth_model(parse_args(std::vector<std::string>(argv + 1, argv + argc)));
    } catch (const UsageError& e) {
        std::cerr << "synth_model: " << e.what() << "\n" << kUsage;
        return kExitUsage;
    } catch (const loom::Error& e) {
        std::cerr << "synth_model: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "synth_model: " << e.what() << "\n";
        return 1;
    }
}

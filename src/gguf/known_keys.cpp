// Validation of well-known GGUF keys. Ranges are generous bounds on real models (the
// largest public models are far inside them), chosen to reject hostile values before any
// layer sizes an allocation or a loop by them. Keys: gguf-py constants.py.
#include "gguf/known_keys.h"

#include <array>
#include <charconv>
#include <limits>
#include <string>

#include "gguf/gguf_file.h"

namespace loom::gguf {
namespace {

enum class Kind {
    UInt,          // any integer type
    UIntPerLayer,  // an integer, or an array of integers with one entry per layer
    Float,         // f32 or f64
    String,
    Bool,
};

struct KnownKey {
    std::string_view suffix;  // after "{arch}." (or the full key when global)
    bool per_arch;
    Kind kind;
    double min;
    double max;
};

constexpr double kBig = 1e12;

constexpr std::array<KnownKey, 27> kKnownKeys = {{
    {"general.architecture", false, Kind::String, 0, 0},
    {"general.name", false, Kind::String, 0, 0},
    {"general.file_type", false, Kind::UInt, 0, 1 << 16},
    {"general.quantization_version", false, Kind::UInt, 0, 1 << 16},
    {"context_length", true, Kind::UInt, 1, 1ull << 32},
    {"embedding_length", true, Kind::UInt, 1, 1 << 20},
    {"block_count", true, Kind::UInt, 1, kMaxLayers},
    {"feed_forward_length", true, Kind::UIntPerLayer, 0, 1 << 22},
    {"vocab_size", true, Kind::UInt, 1, std::numeric_limits<int32_t>::max()},
    {"attention.head_count", true, Kind::UIntPerLayer, 0, 1 << 14},
    {"attention.head_count_kv", true, Kind::UIntPerLayer, 0, 1 << 14},
    {"attention.key_length", true, Kind::UInt, 1, 1 << 16},
    {"attention.value_length", true, Kind::UInt, 1, 1 << 16},
    {"attention.layer_norm_rms_epsilon", true, Kind::Float, 0, 1},
    {"attention.layer_norm_epsilon", true, Kind::Float, 0, 1},
    {"attention.sliding_window", true, Kind::UInt, 0, 1ull << 32},
    {"rope.dimension_count", true, Kind::UInt, 0, 1 << 16},
    {"rope.freq_base", true, Kind::Float, 0, kBig},
    {"rope.freq_base_swa", true, Kind::Float, 0, kBig},
    {"rope.scaling.factor", true, Kind::Float, 0, 1e6},
    {"rope.scaling.original_context_length", true, Kind::UInt, 0, 1ull << 32},
    {"expert_count", true, Kind::UInt, 0, 1 << 16},
    {"expert_used_count", true, Kind::UInt, 0, 1 << 16},
    {"expert_feed_forward_length", true, Kind::UInt, 0, 1 << 22},
    {"attn_logit_softcapping", true, Kind::Float, 0, 1e6},
    {"final_logit_softcapping", true, Kind::Float, 0, 1e6},
    {"tokenizer.ggml.model", false, Kind::String, 0, 0},
}};

// Token-id keys: any integer type. Out-of-range ids (negative ones included) are left
// to the tokenizer, which treats them as unset (llama.cpp warns and does the same; real
// files carry such ids).
constexpr std::array<std::string_view, 14> kTokenIdKeys = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id",     "tokenizer.ggml.eom_token_id",
    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",
    "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
    "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id",
    "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id",
};

constexpr std::array<std::string_view, 4> kBoolKeys = {
    "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
    "tokenizer.ggml.add_space_prefix", "tokenizer.ggml.remove_extra_whitespaces",
};

std::string number_text(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "?";
}

void check_range(const GgufFile& file, std::string_view key, double v, const KnownKey& spec,
                 std::string_view where = {}) {
    // Written so that NaN fails too.
    if (!(v >= spec.min && v <= spec.max)) {
        file.fail_key(key, std::string(where) + "value " + number_text(v) + " is outside [" +
                               number_text(spec.min) + ", " + number_text(spec.max) + "]",
                      ErrorCode::OutOfRange);
    }
}

// Integer values are compared and printed as integers (a double loses digits above 2^53).
void check_range_int(const GgufFile& file, std::string_view key, bool negative, uint64_t magnitude,
                     const KnownKey& spec, std::string_view where = {}) {
    auto min = static_cast<uint64_t>(spec.min);
    auto max = static_cast<uint64_t>(spec.max);
    bool ok = negative ? (magnitude == 0 && min == 0) : (magnitude >= min && magnitude <= max);
    if (!ok) {
        std::string shown = (negative ? "-" : "") + std::to_string(magnitude);
        file.fail_key(key, std::string(where) + "value " + shown + " is outside [" +
                               std::to_string(min) + ", " + std::to_string(max) + "]",
                      ErrorCode::OutOfRange);
    }
}

// An integer array element as sign and magnitude, whatever its width and signedness.
void array_int(const Array& arr, uint64_t i, bool& negative, uint64_t& magnitude) {
    if (arr.elem_type == ValueType::U64) {
        negative = false;
        magnitude = arr.fixed<uint64_t>(i);
        return;
    }
    int64_t v = arr.integer(i);
    negative = v < 0;
    magnitude = negative ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

void check_known_key(const GgufFile& file, std::string_view key, const Value& value,
                     const KnownKey& spec, uint64_t n_layer) {
    switch (spec.kind) {
        case Kind::String:
            if (value.string() == nullptr) {
                file.fail_key(key, "expected string, found " + value.type_description());
            }
            return;
        case Kind::Bool:
            if (value.get_if<bool>() == nullptr) {
                file.fail_key(key, "expected bool, found " + value.type_description());
            }
            return;
        case Kind::Float: {
            double v = 0;
            if (value.array() != nullptr || !value.as_double(v) || is_integer(value.type())) {
                file.fail_key(key, "expected f32, found " + value.type_description());
            }
            check_range(file, key, v, spec);
            return;
        }
        case Kind::UInt:
        case Kind::UIntPerLayer: {
            if (const Array* arr = value.array(); arr && spec.kind == Kind::UIntPerLayer) {
                if (!is_integer(arr->elem_type)) {
                    file.fail_key(key, "expected an integer or array of integers, found " +
                                           value.type_description());
                }
                if (n_layer != 0 && arr->count != n_layer) {
                    file.fail_key(key,
                                  "per-layer array has " + std::to_string(arr->count) +
                                      " entries, block_count is " + std::to_string(n_layer),
                                  ErrorCode::OutOfRange);
                }
                for (uint64_t i = 0; i < arr->count; ++i) {
                    bool negative = false;
                    uint64_t magnitude = 0;
                    array_int(*arr, i, negative, magnitude);
                    check_range_int(file, key, negative, magnitude, spec,
                                    "element " + std::to_string(i) + ": ");
                }
                return;
            }
            if (const auto* big = value.get_if<uint64_t>()) {
                check_range_int(file, key, false, *big, spec);
                return;
            }
            int64_t v = 0;
            if (!value.as_int64(v)) {
                file.fail_key(key, "expected an unsigned integer, found " +
                                       value.type_description());
            }
            check_range_int(file, key, v < 0, v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v),
                            spec);
            return;
        }
    }
}

// The tensor with the largest N among those named "blk.N.*"; nullptr when there are
// none. An N too large for 64 bits counts as the largest.
const TensorInfo* max_block_tensor(const GgufFile& file, uint64_t& max_index) {
    const TensorInfo* best = nullptr;
    for (const TensorInfo& t : file.tensors()) {
        std::string_view name = t.name;
        if (name.substr(0, 4) != "blk.") continue;
        size_t digits_end = name.find_first_not_of("0123456789", 4);
        if (digits_end == 4 || digits_end == std::string_view::npos || name[digits_end] != '.') continue;
        uint64_t index = 0;
        auto [end, ec] = std::from_chars(name.data() + 4, name.data() + digits_end, index);
        if (ec == std::errc::result_out_of_range) index = std::numeric_limits<uint64_t>::max();
        if (best == nullptr || index > max_index) {
            best = &t;
            max_index = index;
        }
    }
    return best;
}

void check_layers(const GgufFile& file, std::string_view arch, uint64_t n_layer) {
    std::string key = std::string(arch) + ".block_count";
    uint64_t max_index = 0;
    const TensorInfo* last = max_block_tensor(file, max_index);
    if (last == nullptr || n_layer == 0) return;  // vocabulary-only or non-layered file
    if (max_index >= n_layer) {
        file.fail_key(key,
                      "is " + std::to_string(n_layer) + " but tensor \"" + std::string(last->name) +
                          "\" belongs to a later layer",
                      ErrorCode::OutOfRange);
    }
    uint64_t covered = max_index + 1;
    if (covered < n_layer) {
        file.fail_key(key,
                      "is " + std::to_string(n_layer) + " but the file has tensors for only " +
                          std::to_string(covered) + " layers (blk.0 .. blk." +
                          std::to_string(max_index) + ")",
                      ErrorCode::OutOfRange);
    }
}

void check_tokenizer(const GgufFile& file) {
    const Value* tokens = file.find("tokenizer.ggml.tokens");
    uint64_t n_tokens = 0;
    if (tokens != nullptr) {
        const Array& arr = file.get_array("tokenizer.ggml.tokens", ValueType::String);
        n_tokens = arr.count;
        if (n_tokens == 0 || n_tokens > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
            file.fail_key("tokenizer.ggml.tokens",
                          "has " + std::to_string(n_tokens) + " tokens, expected 1 .. 2^31-1",
                          ErrorCode::OutOfRange);
        }
    }
    auto check_parallel = [&](std::string_view key, ValueType elem) {
        if (!file.has(key)) return;
        const Array& arr = file.get_array(key, elem);
        if (tokens == nullptr) {
            file.fail_key(key, "present without tokenizer.ggml.tokens");
        }
        if (arr.count != n_tokens) {
            file.fail_key(key,
                          "has " + std::to_string(arr.count) + " entries, tokenizer.ggml.tokens has " +
                              std::to_string(n_tokens),
                          ErrorCode::OutOfRange);
        }
    };
    check_parallel("tokenizer.ggml.scores", ValueType::F32);
    check_parallel("tokenizer.ggml.token_type", ValueType::I32);
    if (file.has("tokenizer.ggml.merges")) {
        file.get_array("tokenizer.ggml.merges", ValueType::String);
    }
    for (std::string_view key : kTokenIdKeys) {
        const Value* v = file.find(key);
        int64_t ignored = 0;
        if (v != nullptr && !v->get_if<uint64_t>() && !v->as_int64(ignored)) {
            file.fail_key(key, "expected an integer token id, found " + v->type_description());
        }
    }
    for (std::string_view key : kBoolKeys) {
        if (file.has(key)) file.get<bool>(key);
    }
    if (file.has("tokenizer.chat_template")) file.get<std::string_view>("tokenizer.chat_template");
}

}  // namespace

void validate_known_keys(const GgufFile& file) {
    const Value* arch_value = file.find("general.architecture");
    std::string_view arch;
    if (arch_value != nullptr) {
        check_known_key(file, "general.architecture", *arch_value, kKnownKeys[0], 0);
        arch = *arch_value->string();
    }
    std::string prefix = arch.empty() ? std::string() : std::string(arch) + ".";
    uint64_t n_layer = 0;
    if (!arch.empty()) {
        if (const Value* v = file.find(prefix + "block_count")) {
            check_known_key(file, prefix + "block_count", *v, kKnownKeys[6], 0);
            n_layer = file.get_uint(prefix + "block_count");
        }
    }
    for (const KnownKey& spec : kKnownKeys) {
        if (spec.per_arch && arch.empty()) continue;
        std::string key = spec.per_arch ? prefix + std::string(spec.suffix) : std::string(spec.suffix);
        if (const Value* v = file.find(key)) check_known_key(file, key, *v, spec, n_layer);
    }
    if (!arch.empty()) {
        auto n_expert = file.find_uint(prefix + "expert_count");
        auto n_expert_used = file.find_uint(prefix + "expert_used_count").value_or(0);
        if (n_expert_used > n_expert.value_or(0)) {
            file.fail_key(prefix + "expert_used_count",
                          "is " + std::to_string(n_expert_used) + ", more than " +
                              (n_expert ? "expert_count " + std::to_string(*n_expert)
                                        : std::string("the experts of a file without expert_count")),
                          ErrorCode::OutOfRange);
        }
        check_layers(file, arch, n_layer);
    }
    check_tokenizer(file);
}

}  // namespace loom::gguf

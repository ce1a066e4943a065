// ModelSummary computation.
#include "gguf/summary.h"

#include <algorithm>

namespace loom::gguf {
namespace {

// The lookups below never throw: a summary of a file opened without the known-key
// checks (loom inspect --no-validate-keys) shows what it can and leaves the rest empty.

std::optional<uint64_t> lenient_uint(const GgufFile& file, std::string_view key) {
    const Value* v = file.find(key);
    if (v == nullptr) return std::nullopt;
    if (const auto* u = v->get_if<uint64_t>()) return *u;
    int64_t i = 0;
    if (!v->as_int64(i) || i < 0) return std::nullopt;
    return static_cast<uint64_t>(i);
}

std::optional<double> lenient_float(const GgufFile& file, std::string_view key) {
    const Value* v = file.find(key);
    double d = 0;
    if (v == nullptr || is_integer(v->type()) || !v->as_double(d)) return std::nullopt;
    return d;
}

std::string_view lenient_string(const GgufFile& file, std::string_view key) {
    const Value* v = file.find(key);
    const std::string_view* s = v != nullptr ? v->string() : nullptr;
    return s != nullptr ? *s : std::string_view();
}

// A scalar integer, or the largest entry of a per-layer integer array.
std::optional<uint64_t> uint_or_layer_max(const GgufFile& file, const std::string& key) {
    const Value* v = file.find(key);
    if (v == nullptr) return std::nullopt;
    if (const Array* arr = v->array()) {
        if (!is_integer(arr->elem_type) || arr->count == 0) return std::nullopt;
        int64_t best = 0;
        for (uint64_t i = 0; i < arr->count; ++i) best = std::max(best, arr->integer(i));
        return static_cast<uint64_t>(best);
    }
    return lenient_uint(file, key);
}

std::string_view token_text(const GgufFile& file, std::optional<uint64_t> id) {
    const Value* v = file.find("tokenizer.ggml.tokens");
    if (!id || v == nullptr || v->array() == nullptr) return {};
    const Array& tokens = *v->array();
    return *id < tokens.strings.size() ? tokens.strings[*id] : std::string_view();
}

}  // namespace

ModelSummary summarize(const GgufFile& file, size_t n_largest) {
    ModelSummary s;
    s.architecture = lenient_string(file, "general.architecture");
    s.name = lenient_string(file, "general.name");
    for (const TensorInfo& t : file.tensors()) {
        s.n_params += t.n_elements;
        s.n_tensor_bytes += t.n_bytes;
        auto it = std::find_if(s.type_mix.begin(), s.type_mix.end(),
                               [&](const TypeMix& m) { return m.type == t.type; });
        if (it == s.type_mix.end()) it = s.type_mix.insert(s.type_mix.end(), TypeMix{t.type});
        it->n_tensors += 1;
        it->n_elements += t.n_elements;
        it->n_bytes += t.n_bytes;
    }
    std::sort(s.type_mix.begin(), s.type_mix.end(),
              [](const TypeMix& a, const TypeMix& b) { return a.n_bytes > b.n_bytes; });
    if (s.n_params > 0) {
        s.bits_per_weight = 8.0 * static_cast<double>(s.n_tensor_bytes) / static_cast<double>(s.n_params);
    }
    s.file_type = lenient_uint(file, "general.file_type");
    if (s.file_type && *s.file_type <= UINT32_MAX) {
        s.file_type_name = file_type_name(static_cast<uint32_t>(*s.file_type));
    }

    if (!s.architecture.empty()) {
        std::string p = std::string(s.architecture) + ".";
        s.n_ctx_train = lenient_uint(file, p + "context_length");
        s.n_layer = lenient_uint(file, p + "block_count");
        s.n_embd = lenient_uint(file, p + "embedding_length");
        s.n_ff = uint_or_layer_max(file, p + "feed_forward_length");
        s.n_head = uint_or_layer_max(file, p + "attention.head_count");
        s.n_head_kv = uint_or_layer_max(file, p + "attention.head_count_kv");
        s.head_dim = lenient_uint(file, p + "attention.key_length");
        if (!s.head_dim && s.n_embd && s.n_head && *s.n_head > 0) s.head_dim = *s.n_embd / *s.n_head;
        s.n_expert = lenient_uint(file, p + "expert_count");
        s.n_expert_used = lenient_uint(file, p + "expert_used_count");
        s.rope_freq_base = lenient_float(file, p + "rope.freq_base");
    }

    s.tokenizer_model = lenient_string(file, "tokenizer.ggml.model");
    s.tokenizer_pre = lenient_string(file, "tokenizer.ggml.pre");
    if (const Value* tokens = file.find("tokenizer.ggml.tokens");
        tokens && tokens->array() && tokens->array()->elem_type == ValueType::String) {
        s.n_vocab = tokens->array()->count;
    } else if (!s.architecture.empty()) {
        s.n_vocab = lenient_uint(file, std::string(s.architecture) + ".vocab_size").value_or(0);
    }
    if (s.n_vocab == 0) {
        if (const TensorInfo* embd = file.find_tensor("token_embd.weight"); embd && embd->n_dims >= 2) {
            s.n_vocab = embd->ne[1];
        }
    }
    s.bos_id = lenient_uint(file, "tokenizer.ggml.bos_token_id");
    s.eos_id = lenient_uint(file, "tokenizer.ggml.eos_token_id");
    s.bos_text = token_text(file, s.bos_id);
    s.eos_text = token_text(file, s.eos_id);

    if (const Value* tmpl = file.find("tokenizer.chat_template"); tmpl && tmpl->string()) {
        s.has_chat_template = true;
        s.chat_template_bytes = tmpl->string()->size();
    }
    constexpr std::string_view named_prefix = "tokenizer.chat_template.";
    for (const KeyValue& kv : file.metadata()) {
        if (kv.key.substr(0, named_prefix.size()) == named_prefix && kv.value.string()) {
            s.named_chat_templates.push_back(kv.key.substr(named_prefix.size()));
        }
    }

    for (const TensorInfo& t : file.tensors()) s.largest_tensors.push_back(&t);
    std::stable_sort(s.largest_tensors.begin(), s.largest_tensors.end(),
                     [](const TensorInfo* a, const TensorInfo* b) { return a->n_bytes > b->n_bytes; });
    if (s.largest_tensors.size() > n_largest) s.largest_tensors.resize(n_largest);
    return s;
}

}  // namespace loom::gguf

// `loom inspect --json` rendering: the summary, every metadata key (arrays longer than
// array_full_max are summarized as type, count and the first elements) and the tensor
// table. Invalid UTF-8 in strings is replaced, never an error.
#include <nlohmann/json.hpp>

#include <ostream>

#include "cli/inspect_command.h"

namespace loom::cli {
namespace {

using json = nlohmann::ordered_json;  // keeps metadata in file order

template <typename T>
json optional_json(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json value_json(const gguf::Value& value, const InspectOptions& options);

json array_element(const gguf::Array& arr, uint64_t i, const InspectOptions& options) {
    switch (arr.elem_type) {
        case gguf::ValueType::String: return json(std::string(arr.strings[i]));
        case gguf::ValueType::Array: return value_json(arr.arrays[i], options);
        case gguf::ValueType::Bool: return json(arr.data[i] != 0);
        case gguf::ValueType::F32:
        case gguf::ValueType::F64: return json(arr.number(i));
        case gguf::ValueType::U64: return json(arr.fixed<uint64_t>(i));
        default: return json(arr.integer(i));
    }
}

json value_json(const gguf::Value& value, const InspectOptions& options) {
    return std::visit(
        [&](const auto& v) -> json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string_view>) {
                return json(std::string(v));
            } else if constexpr (std::is_same_v<T, gguf::Array>) {
                bool whole = v.count <= options.array_full_max;
                uint64_t shown = whole ? v.count : options.array_head;
                json items = json::array();
                for (uint64_t i = 0; i < shown; ++i) items.push_back(array_element(v, i, options));
                if (whole) return items;
                return json{{"type", value.type_description()}, {"count", v.count}, {"head", items}};
            } else {
                return json(v);
            }
        },
        value.storage());
}

json summary_json(const gguf::ModelSummary& s) {
    json mix = json::array();
    for (const gguf::TypeMix& m : s.type_mix) {
        mix.push_back({{"type", gguf::ggml_type_name(m.type)},
                       {"tensors", m.n_tensors},
                       {"elements", m.n_elements},
                       {"bytes", m.n_bytes}});
    }
    json largest = json::array();
    for (const gguf::TensorInfo* t : s.largest_tensors) largest.push_back(std::string(t->name));
    json named = json::array();
    for (auto n : s.named_chat_templates) named.push_back(std::string(n));
    return {
        {"architecture", std::string(s.architecture)},
        {"name", std::string(s.name)},
        {"parameters", s.n_params},
        {"tensor_bytes", s.n_tensor_bytes},
        {"bits_per_weight", s.bits_per_weight},
        {"file_type", optional_json(s.file_type)},
        {"file_type_name", std::string(s.file_type_name)},
        {"tensor_types", mix},
        {"context_length", optional_json(s.n_ctx_train)},
        {"block_count", optional_json(s.n_layer)},
        {"embedding_length", optional_json(s.n_embd)},
        {"feed_forward_length", optional_json(s.n_ff)},
        {"head_count", optional_json(s.n_head)},
        {"head_count_kv", optional_json(s.n_head_kv)},
        {"head_dim", optional_json(s.head_dim)},
        {"expert_count", optional_json(s.n_expert)},
        {"expert_used_count", optional_json(s.n_expert_used)},
        {"rope_freq_base", optional_json(s.rope_freq_base)},
        {"tokenizer_model", std::string(s.tokenizer_model)},
        {"tokenizer_pre", std::string(s.tokenizer_pre)},
        {"vocab_size", s.n_vocab},
        {"bos_token_id", optional_json(s.bos_id)},
        {"eos_token_id", optional_json(s.eos_id)},
        {"chat_template", s.has_chat_template},
        {"chat_template_bytes", s.chat_template_bytes},
        {"named_chat_templates", named},
        {"largest_tensors", largest},
    };
}

}  // namespace

void write_inspect_json(std::ostream& out, const gguf::GgufFile& file,
                        const gguf::ModelSummary& summary, const InspectOptions& options) {
    json metadata = json::object();
    for (const gguf::KeyValue& kv : file.metadata()) {
        metadata[std::string(kv.key)] = {{"type", kv.value.type_description()},
                                         {"value", value_json(kv.value, options)}};
    }
    json tensors = json::array();
    for (const gguf::TensorInfo& t : file.tensors()) {
        json shape = json::array();
        for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
        tensors.push_back({{"name", std::string(t.name)},
                           {"type", gguf::ggml_type_name(t.type)},
                           {"type_id", static_cast<uint32_t>(t.type)},
                           {"shape", shape},
                           {"offset", t.offset},
                           {"file_offset", file.data_offset() + t.offset},
                           {"bytes", t.n_bytes},
                           {"elements", t.n_elements}});
    }
    json doc = {
        {"file", file.source()},
        {"file_bytes", file.bytes().size()},
        {"gguf_version", file.version()},
        {"alignment", file.alignment()},
        {"data_offset", file.data_offset()},
        {"summary", summary_json(summary)},
        {"metadata", metadata},
        {"tensors", tensors},
    };
    out << doc.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

}  // namespace loom::cli

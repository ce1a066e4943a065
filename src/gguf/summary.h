// ModelSummary: the facts a person asks first about a GGUF file (architecture, size,
// quantization mix, shape hyperparameters, tokenizer, chat template, largest tensors),
// computed from the metadata and tensor table alone. `loom inspect` renders it; it does
// not format anything itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"

namespace loom::gguf {

struct TypeMix {
    GgmlType type;
    uint64_t n_tensors = 0;
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
};

struct ModelSummary {
    std::string_view architecture;  // general.architecture, may be empty
    std::string_view name;          // general.name, may be empty
    uint64_t n_params = 0;          // elements over all tensors
    uint64_t n_tensor_bytes = 0;
    double bits_per_weight = 0;
    std::optional<uint64_t> file_type;  // general.file_type
    std::string_view file_type_name;    // "Q4_K_M", empty if unknown
    std::vector<TypeMix> type_mix;      // by bytes, largest first

    // {arch}.* hyperparameters; per-layer arrays report their largest entry.
    std::optional<uint64_t> n_ctx_train, n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim,
        n_expert, n_expert_used;
    std::optional<double> rope_freq_base;

    std::string_view tokenizer_model;  // tokenizer.ggml.model
    std::string_view tokenizer_pre;    // tokenizer.ggml.pre
    uint64_t n_vocab = 0;              // tokens, else vocab_size, else token_embd rows
    std::optional<uint64_t> bos_id, eos_id;
    std::string_view bos_text, eos_text;

    bool has_chat_template = false;
    uint64_t chat_template_bytes = 0;
    std::vector<std::string_view> named_chat_templates;  // tokenizer.chat_template.<name>

    std::vector<const TensorInfo*> largest_tensors;  // by bytes, largest first
};

// Views in the result point into file: keep it alive. Never throws: keys of the wrong
// type (possible with ReadOptions::validate_known_keys off) are left out.
ModelSummary summarize(const GgufFile& file, size_t n_largest = 5);

}  // namespace loom::gguf

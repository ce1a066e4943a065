// `loom inspect` text rendering: aligned "label: value" lines a person reads at a glance.
#include <cstdio>
#include <ostream>

#include "cli/inspect_command.h"
#include "core/format.h"

namespace loom::cli {
namespace {

void line(std::ostream& out, std::string_view label, const std::string& value) {
    out << label << ':';
    for (size_t i = label.size(); i < 16; ++i) out << ' ';
    out << value << '\n';
}

std::string opt(const std::optional<uint64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string token_label(std::optional<uint64_t> id, std::string_view text) {
    if (!id) return "-";
    return std::to_string(*id) + (text.empty() ? std::string() : " " + quote_for_message(text, 40));
}

void tensor_line(std::ostream& out, const gguf::TensorInfo& t) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-40s %-8s %-22s %12s\n", quote_for_message(t.name, 60).c_str(),
                  std::string(gguf::ggml_type_name(t.type)).c_str(), t.shape_string().c_str(),
                  format_bytes(t.n_bytes).c_str());
    out << buf;
}

}  // namespace

void write_inspect_text(std::ostream& out, const gguf::GgufFile& file,
                        const gguf::ModelSummary& s, const InspectOptions& options) {
    line(out, "file", file.source());
    line(out, "format", "GGUF v" + std::to_string(file.version()) + ", " +
                            format_bytes(file.bytes().size()) + ", alignment " +
                            std::to_string(file.alignment()) + ", " +
                            std::to_string(file.metadata().size()) + " metadata keys, " +
                            std::to_string(file.tensors().size()) + " tensors");
    line(out, "architecture", s.architecture.empty() ? "-" : quote_for_message(s.architecture));
    if (!s.name.empty()) line(out, "name", quote_for_message(s.name));
    line(out, "parameters", format_count(s.n_params) + " (" + std::to_string(s.n_params) + ")");
    std::string ftype = s.file_type_name.empty()
                            ? (s.file_type ? "unknown (" + std::to_string(*s.file_type) + ")" : "-")
                            : std::string(s.file_type_name);
    line(out, "file type", ftype + ", " + fixed(s.bits_per_weight, 2) + " bits per weight, " +
                               format_bytes(s.n_tensor_bytes) + " of tensors");
    std::string mix;
    for (const gguf::TypeMix& m : s.type_mix) {
        if (!mix.empty()) mix += ", ";
        mix += std::string(gguf::ggml_type_name(m.type)) + " x" + std::to_string(m.n_tensors) +
               " (" + format_bytes(m.n_bytes) + ")";
    }
    line(out, "tensor types", mix.empty() ? "-" : mix);
    line(out, "context", opt(s.n_ctx_train) + " (trained)");
    line(out, "layers", opt(s.n_layer));
    line(out, "embedding", opt(s.n_embd) + ", feed-forward " + opt(s.n_ff));
    line(out, "heads", opt(s.n_head) + ", kv heads " + opt(s.n_head_kv) + ", head dim " + opt(s.head_dim));
    if (s.n_expert && *s.n_expert > 0) {
        line(out, "experts", opt(s.n_expert) + ", used per token " + opt(s.n_expert_used));
    }
    if (s.rope_freq_base) line(out, "rope base", fixed(*s.rope_freq_base, 1));
    std::string tok = s.tokenizer_model.empty() ? "-" : quote_for_message(s.tokenizer_model);
    if (!s.tokenizer_pre.empty()) tok += " (pre " + quote_for_message(s.tokenizer_pre) + ")";
    tok += ", " + std::to_string(s.n_vocab) + " tokens";
    line(out, "tokenizer", tok);
    line(out, "special tokens", "bos " + token_label(s.bos_id, s.bos_text) + ", eos " +
                                    token_label(s.eos_id, s.eos_text));
    std::string chat = s.has_chat_template ? "yes (" + std::to_string(s.chat_template_bytes) + " bytes)" : "no";
    for (auto name : s.named_chat_templates) chat += ", " + quote_for_message(name);
    line(out, "chat template", chat);
    if (options.all_tensors) {
        out << "tensors:\n";
        for (const gguf::TensorInfo& t : file.tensors()) tensor_line(out, t);
    } else if (!s.largest_tensors.empty()) {
        out << "largest tensors:\n";
        for (const gguf::TensorInfo* t : s.largest_tensors) tensor_line(out, *t);
    }
}

}  // namespace loom::cli

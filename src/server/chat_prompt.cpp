// The chat template's choice and rendering (see chat_prompt.h).
#include "server/chat_prompt.h"

#include <fstream>
#include <sstream>
#include <string_view>

#include "core/error.h"
#include "server/json_value.h"

namespace loom::server {
namespace {

// Used when a gemma-architecture model carries no template and the user gives none:
// the Gemma turn format (the same text Gemma's own templates produce).
constexpr std::string_view kGemmaTemplate =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'assistant' %}"
    "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{% if role == 'system' %}{{ '<start_of_turn>user\\n' + message['content'] | trim + "
    "'<end_of_turn>\\n' }}{% else %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | "
    "trim + '<end_of_turn>\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<start_of_turn>model\\n' }}{% endif %}";

std::string template_source(const model::Model& model, const std::string& file) {
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw Error(ErrorCode::Io, file + ": cannot open the chat template");
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }
    if (auto t = model.file().find_string("tokenizer.chat_template")) return std::string(*t);
    if (model.arch().name.substr(0, 5) == "gemma") return std::string(kGemmaTemplate);
    throw Error(ErrorCode::NotFound, "the model has no chat template (tokenizer.chat_template); give one with "
                                     "--chat-template FILE");
}

}  // namespace

ChatPrompt::ChatPrompt(std::shared_ptr<const model::Model> model, const std::string& template_file)
    : model_(std::move(model)),
      source_(template_source(*model_, template_file)),
      tmpl_(jinja::Template::parse(source_)) {
    const tokenizer::Vocab& vocab = model_->tokenizer().vocab();
    if (vocab.contains(vocab.special().bos)) bos_ = std::string(vocab.text(vocab.special().bos));
    if (vocab.contains(vocab.special().eos)) eos_ = std::string(vocab.text(vocab.special().eos));
}

std::string ChatPrompt::render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json* tools,
                               bool add_generation_prompt) const {
    jinja::Dict context;
    context.set("messages", json_to_value(messages));
    context.set("tools", tools != nullptr ? json_to_value(*tools) : jinja::Value(jinja::None{}));
    context.set("documents", jinja::Value(jinja::None{}));  // as transformers passes it
    context.set("add_generation_prompt", jinja::Value(add_generation_prompt));
    context.set("bos_token", jinja::Value(bos_));
    context.set("eos_token", jinja::Value(eos_));
    return tmpl_.render(context);
}

std::vector<tokenizer::TokenId> ChatPrompt::tokens(const nlohmann::ordered_json& messages,
                                                   const nlohmann::ordered_json* tools,
                                                   bool add_generation_prompt) const {
    const std::string prompt = render(messages, tools, add_generation_prompt);
    // The template writes BOS itself when it wants one (as Hugging Face assumes).
    const bool add_special = bos_.empty() || prompt.compare(0, bos_.size(), bos_) != 0;
    return model_->tokenizer().encode(prompt, add_special, true);
}

}  // namespace loom::server

// ChatPrompt: turns an OpenAI-style messages array into the prompt tokens a chat model
// expects, through the model's Jinja chat template (tokenizer.chat_template), as
// Hugging Face's apply_chat_template does: messages, tools, add_generation_prompt,
// bos_token and eos_token in the context; BOS added by the tokenizer only when the
// template did not write it. Used by `loom serve` and `loom chat`.
//
//   ChatPrompt chat(model, "");                    // the model's template
//   std::vector<TokenId> ids = chat.tokens(messages, nullptr);
//
// Template choice: a file given by the user, else the model's own, else (gemma
// architectures only) the Gemma turn format those models are trained on; otherwise
// there is no way to know the model's format and construction fails with a hint.
//
// Errors: the constructor throws loom::Error (NotFound: no template; Format: a
// template that does not parse; Io: an unreadable file); tokens() throws loom::Error
// (Format) when the template fails on these messages (raise_exception included).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jinja/template.h"
#include "model/model.h"

namespace loom::server {

class ChatPrompt {
public:
    ChatPrompt(std::shared_ptr<const model::Model> model, const std::string& template_file);

    // The rendered prompt text; tools is a JSON array or null (absent).
    std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json* tools,
                       bool add_generation_prompt = true) const;
    // render() tokenized (special tokens in the text are parsed as such).
    std::vector<tokenizer::TokenId> tokens(const nlohmann::ordered_json& messages,
                                           const nlohmann::ordered_json* tools,
                                           bool add_generation_prompt = true) const;

    // The template's text (which tool-call syntax it uses: server/tool_calls.h).
    const std::string& source() const { return source_; }

private:
    std::shared_ptr<const model::Model> model_;
    std::string source_;
    jinja::Template tmpl_;
    std::string bos_, eos_;
};

}  // namespace loom::server

// `loom template`: the variables a chat template gets (as Hugging Face's
// apply_chat_template passes them: messages, tools (None when absent),
// add_generation_prompt, the special tokens, extra keyword arguments) and the render.
#include "cli/template_command.h"

#include <CLI/CLI.hpp>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/default_model.h"
#include "server/json_value.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "jinja/template.h"
#include "tokenizer/vocab.h"

namespace loom::cli {
namespace {

struct TemplateArgs {
    std::string model;
    std::string template_file;
    std::string messages_file;
    std::string tools_file;
    bool add_generation_prompt = false;
    std::string bos_token;
    std::string eos_token;
    std::string now;
    std::string kwargs;
};

std::string read_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, std::string(what) + " " + path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

nlohmann::ordered_json parse_json(const std::string& text, const std::string& where) {
    try {
        return nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::Format, where + ": invalid JSON: " + e.what());
    }
}

std::time_t parse_now(const std::string& text) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == nullptr) end = strptime(text.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr || (*end != '\0' && *end != 'Z')) {
        throw Error(ErrorCode::InvalidArgument, "--now " + text + ": expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS");
    }
    tm.tm_isdst = -1;
    return std::mktime(&tm);  // local time, as strftime_now formats it
}

}  // namespace

CommandRun setup_template(CLI::App& app) {
    auto args = std::make_shared<TemplateArgs>();
    app.add_option("-m,--model", args->model, "GGUF model whose tokenizer.chat_template to render");
    app.add_option("--template", args->template_file, "A Jinja template file instead of the model's");
    app.add_option("--messages", args->messages_file, "JSON file with the messages array")->required();
    app.add_option("--tools", args->tools_file, "JSON file with the tools array");
    app.add_flag("--add-generation-prompt", args->add_generation_prompt,
                 "End with the prompt for the assistant's turn");
    app.add_option("--bos-token", args->bos_token, "bos_token text (default: the model's)");
    app.add_option("--eos-token", args->eos_token, "eos_token text (default: the model's)");
    app.add_option("--now", args->now, "Pin strftime_now() to this local time (YYYY-MM-DDTHH:MM:SS)");
    app.add_option("--chat-template-kwargs", args->kwargs,
                   "JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'");
    return [args, &app](Io& io) {
        std::string source;
        std::string bos = args->bos_token;
        std::string eos = args->eos_token;
        if (!args->template_file.empty()) {
            if (!args->model.empty()) throw Error(ErrorCode::InvalidArgument, "give -m or --template, not both");
            source = read_file(args->template_file, "template");
        } else {
            std::string path = args->model.empty() ? default_model_path() : args->model;
            gguf::GgufFile file = gguf::GgufFile::open(path);
            auto tmpl = file.find_string("tokenizer.chat_template");
            if (!tmpl) {
                throw Error(ErrorCode::NotFound,
                            path + ": the model has no chat template (tokenizer.chat_template); use --template FILE");
            }
            source = std::string(*tmpl);
            tokenizer::Vocab vocab = tokenizer::Vocab::from_gguf(file);
            if (app.count("--bos-token") == 0 && vocab.contains(vocab.special().bos)) bos = vocab.text(vocab.special().bos);
            if (app.count("--eos-token") == 0 && vocab.contains(vocab.special().eos)) eos = vocab.text(vocab.special().eos);
        }
        nlohmann::ordered_json messages = parse_json(read_file(args->messages_file, "messages"), args->messages_file);
        if (!messages.is_array()) throw Error(ErrorCode::Format, args->messages_file + ": expected a JSON array of messages");
        jinja::Dict context;
        context.set("messages", server::json_to_value(messages));
        if (!args->tools_file.empty()) {
            nlohmann::ordered_json tools = parse_json(read_file(args->tools_file, "tools"), args->tools_file);
            if (!tools.is_array()) throw Error(ErrorCode::Format, args->tools_file + ": expected a JSON array of tools");
            context.set("tools", server::json_to_value(tools));
        } else {
            context.set("tools", jinja::Value(jinja::None{}));
        }
        context.set("documents", jinja::Value(jinja::None{}));  // as transformers passes it
        context.set("add_generation_prompt", jinja::Value(args->add_generation_prompt));
        context.set("bos_token", jinja::Value(bos));
        context.set("eos_token", jinja::Value(eos));
        if (!args->kwargs.empty()) {
            nlohmann::ordered_json extra = parse_json(args->kwargs, "--chat-template-kwargs");
            if (!extra.is_object()) throw Error(ErrorCode::InvalidArgument, "--chat-template-kwargs: expected a JSON object");
            for (const auto& [k, v] : extra.items()) context.set(k, server::json_to_value(v));
        }
        jinja::RenderOptions options;
        if (!args->now.empty()) options.now = parse_now(args->now);
        jinja::Template tmpl = jinja::Template::parse(source);
        io.out << tmpl.render(context, options);
        return 0;
    };
}

}  // namespace loom::cli

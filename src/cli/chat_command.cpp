// `loom chat`: the conversation loop. Each turn renders the whole conversation through
// the chat template, tokenizes it, and evaluates only the tokens after the prefix the
// context already holds (multi-turn chat does not re-process the history).
#include "cli/chat_command.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <readline/history.h>
#include <readline/readline.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "cli/context_options.h"
#include "cli/default_model.h"
#include "cli/sampler_options.h"
#include "core/error.h"
#include "server/chat_prompt.h"
#include "model/model.h"
#include "runtime/context.h"
#include "runtime/stop_strings.h"
#include "runtime/sampler.h"

namespace loom::cli {
namespace {

// The one piece of process-wide state: a signal handler can only reach a static flag.
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct ChatArgs {
    std::string model;
    std::string template_file;
    std::string system;
    int32_t n_predict = 512;
    runtime::SamplerParams sampler;
    int64_t seed = -1;
    ContextArgs context;
    std::vector<std::string> stop;
};

struct Message {
    std::string role;
    std::string content;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

class ChatSession {
public:
    ChatSession(std::shared_ptr<const model::Model> model, const ChatArgs& args)
        : model_(std::move(model)),
          chat_(model_, args.template_file),
          args_(args),
          ctx_(model_, resolve_context(args.context, model_->hparams())) {
        sampler_ = std::make_unique<runtime::Sampler>(
            resolve_seed(args.sampler, args.seed),
            runtime::SamplerLimits{.n_vocab = model_->hparams().n_vocab, .n_ctx = ctx_.n_ctx()});
        if (!args.system.empty()) history_.push_back({"system", args.system});
    }

    void reset() {
        std::string system;
        if (!history_.empty() && history_.front().role == "system") system = history_.front().content;
        history_.clear();
        if (!system.empty()) history_.push_back({"system", system});
    }

    void set_system(const std::string& text) {
        if (!history_.empty() && history_.front().role == "system") history_.erase(history_.begin());
        if (!text.empty()) history_.insert(history_.begin(), {"system", text});
    }

    void save(const std::string& path) const {
        nlohmann::ordered_json messages = nlohmann::ordered_json::array();
        for (const Message& m : history_) messages.push_back({{"role", m.role}, {"content", m.content}});
        std::ofstream out(path, std::ios::binary);
        out << messages.dump(2) << "\n";
        if (!out) throw Error(ErrorCode::Io, path + ": cannot write");
    }

    void load(const std::string& path) {
        nlohmann::ordered_json messages;
        try {
            messages = nlohmann::ordered_json::parse(read_all(path));
        } catch (const nlohmann::json::exception& e) {
            throw Error(ErrorCode::Format, path + ": invalid JSON: " + e.what());
        }
        if (!messages.is_array()) throw Error(ErrorCode::Format, path + ": expected a JSON array of messages");
        std::vector<Message> loaded;
        for (const auto& m : messages) {
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
                !m["content"].is_string()) {
                throw Error(ErrorCode::Format, path + ": each message needs string role and content");
            }
            loaded.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
        }
        history_ = std::move(loaded);
    }

    // One user turn: streams the reply to out and keeps it in the history.
    void turn(const std::string& user_text, std::ostream& out) {
        history_.push_back({"user", user_text});
        std::vector<tokenizer::TokenId> ids = render_tokens();
        if (ids.size() >= ctx_.n_ctx()) {
            history_.pop_back();
            throw Error(ErrorCode::OutOfRange, "the conversation (" + std::to_string(ids.size()) +
                                                   " tokens) no longer fits the context of " +
                                                   std::to_string(ctx_.n_ctx()) + " tokens; /reset to start over");
        }
        size_t keep = 0;
        while (keep < cached_.size() && keep < ids.size() - 1 && cached_[keep] == ids[keep]) ++keep;
        ctx_.truncate(static_cast<uint32_t>(keep));
        cached_.assign(ids.begin(), ids.end());
        std::span<const float> logits =
            ctx_.decode(std::span<const tokenizer::TokenId>(ids).subspan(keep));
        const tokenizer::Tokenizer& tok = model_->tokenizer();
        // Penalties see the whole rendered conversation (the sampler keeps the last n).
        sampler_->reset();
        for (tokenizer::TokenId id : ids) sampler_->accept(id);
        runtime::StopMatcher stop(args_.stop);
        tokenizer::StreamDecoder stream;
        std::string reply;
        g_interrupted.store(false);
        for (int32_t n = 0; args_.n_predict < 0 || n < args_.n_predict; ++n) {
            if (g_interrupted.load()) break;
            tokenizer::TokenId next = sampler_->sample(logits);
            if (tok.vocab().is_eog(next)) break;
            sampler_->accept(next);
            std::string text = stop.push(stream.push(tok.piece(next, false)));
            reply += text;
            out << text << std::flush;
            if (stop.stopped()) break;
            if (ctx_.n_past() >= ctx_.n_ctx()) break;
            cached_.push_back(next);
            std::array<tokenizer::TokenId, 1> one{next};
            logits = ctx_.decode(one);
        }
        std::string rest = stop.stopped() ? std::string() : stop.push(stream.finish()) + stop.finish();
        reply += rest;
        out << rest << "\n" << std::flush;
        history_.push_back({"assistant", reply});
    }

private:
    std::vector<tokenizer::TokenId> render_tokens() const {
        nlohmann::ordered_json messages = nlohmann::ordered_json::array();
        for (const Message& m : history_) messages.push_back({{"role", m.role}, {"content", m.content}});
        return chat_.tokens(messages, nullptr);
    }

    std::shared_ptr<const model::Model> model_;
    server::ChatPrompt chat_;
    const ChatArgs& args_;
    runtime::Context ctx_;
    std::unique_ptr<runtime::Sampler> sampler_;
    std::vector<Message> history_;
    std::vector<tokenizer::TokenId> cached_;  // tokens whose KV the context holds
};

// One line of input, or nullopt at end of input. Uses readline on a terminal.
std::optional<std::string> read_line(const char* prompt, bool tty) {
    if (tty) {
        char* line = readline(prompt);
        if (line == nullptr) return std::nullopt;
        std::string s(line);
        std::free(line);  // allocated by readline
        if (!s.empty()) add_history(s.c_str());
        return s;
    }
    std::string s;
    if (!std::getline(std::cin, s)) return std::nullopt;
    return s;
}

}  // namespace

CommandRun setup_chat(CLI::App& app) {
    auto args = std::make_shared<ChatArgs>();
    args->sampler.temperature = 0.8f;
    app.add_option("-m,--model", args->model, "GGUF model (default: the default model)");
    app.add_option("--chat-template", args->template_file, "Jinja chat template file (default: the model's)");
    app.add_option("--system", args->system, "System message");
    app.add_option("-n,--n-predict", args->n_predict, "Most tokens per reply (-1: no limit)")->check(CLI::Range(-1, 1 << 24));
    add_sampler_options(app, args->sampler, args->seed);
    add_stop_option(app, args->stop);
    add_context_options(app, args->context);
    return [args](Io& io) {
        std::string path = args->model.empty() ? default_model_path() : args->model;
        std::shared_ptr<const model::Model> model = model::Model::load(path);
        std::unique_ptr<ChatSession> made;
        try {
            made = std::make_unique<ChatSession>(model, *args);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::NotFound) throw;
            throw Error(ErrorCode::NotFound, path + ": " + e.what());
        }
        ChatSession& session = *made;
        std::signal(SIGINT, on_sigint);
        const bool tty = isatty(STDIN_FILENO) != 0;
        if (tty) io.err << "loom chat: /reset, /system TEXT, /save FILE, /load FILE, /exit; end a line with \\ to continue it\n";
        while (true) {
            std::optional<std::string> line = read_line("> ", tty);
            if (!line) break;
            std::string text = *line;
            while (!text.empty() && text.back() == '\\') {
                text.back() = '\n';
                std::optional<std::string> more = read_line("... ", tty);
                if (!more) break;
                text += *more;
            }
            if (text.empty()) continue;
            try {
                if (text == "/exit" || text == "/quit") break;
                if (text == "/reset") {
                    session.reset();
                    io.err << "(conversation reset)\n";
                } else if (text.rfind("/system", 0) == 0) {
                    session.set_system(text.size() > 8 ? text.substr(8) : std::string());
                    io.err << "(system message set)\n";
                } else if (text.rfind("/save ", 0) == 0) {
                    session.save(text.substr(6));
                    io.err << "(saved)\n";
                } else if (text.rfind("/load ", 0) == 0) {
                    session.load(text.substr(6));
                    io.err << "(loaded)\n";
                } else if (text[0] == '/') {
                    io.err << "unknown command " << text << " (/reset, /system, /save, /load, /exit)\n";
                } else {
                    session.turn(text, io.out);
                }
            } catch (const Error& e) {
                // A failed turn or command is reported; the conversation goes on.
                io.err << "loom chat: " << e.what() << "\n";
            }
        }
        return 0;
    };
}

}  // namespace loom::cli

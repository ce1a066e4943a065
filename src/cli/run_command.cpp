// `loom run`: load, tokenize, evaluate the prompt, sample and stream until -n tokens or
// an end-of-generation token; with --grammar / --json-schema the output is constrained
// (the grammar also ends the run once nothing but the end can follow).
#include "cli/run_command.h"

#include <CLI/CLI.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>

#include "cli/context_options.h"
#include "cli/default_model.h"
#include "cli/grammar_options.h"
#include "cli/sampler_options.h"
#include "core/error.h"
#include "core/format.h"
#include "model/model.h"
#include "runtime/context.h"
#include "runtime/grammar_matcher.h"
#include "runtime/sampler.h"
#include "runtime/stop_strings.h"
#include "runtime/token_trie.h"

namespace loom::cli {
namespace {

struct RunArgs {
    std::string model;
    std::string prompt;
    std::string file;
    int32_t n_predict = 128;
    runtime::SamplerParams sampler;
    int64_t seed = -1;
    ContextArgs context;
    std::vector<std::string> stop;
    GrammarArgs grammar;
    std::string tokens;  // comma-separated ids: the prompt as tokens
    bool echo = false;
    bool verbose = false;
    std::string logits_out;
    bool logits_all = false;
};

// "1,5,9" -> ids; a malformed list is a usage error naming the bad item.
std::vector<tokenizer::TokenId> parse_token_list(const std::string& list) {
    std::vector<tokenizer::TokenId> ids;
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        std::string item = list.substr(start, end - start);
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || v < INT32_MIN || v > INT32_MAX) {
            throw Error(ErrorCode::InvalidArgument, "--tokens: \"" + item + "\" is not a token id");
        }
        ids.push_back(static_cast<tokenizer::TokenId>(v));
        start = end + 1;
    }
    return ids;
}

void write_floats(const std::string& path, std::span<const float> values) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size_bytes()));
    if (!out) throw Error(ErrorCode::Io, path + ": cannot write");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

CommandRun setup_run(CLI::App& app) {
    auto args = std::make_shared<RunArgs>();
    app.add_option("-m,--model", args->model, "GGUF model (default: the default model)");
    app.add_option("-p,--prompt", args->prompt, "Prompt text");
    app.add_option("-f,--file", args->file, "Read the prompt from this file");
    app.add_option("-n,--n-predict", args->n_predict, "Tokens to generate (-1: until end of generation or context)")
        ->check(CLI::Range(-1, 1 << 24));
    add_sampler_options(app, args->sampler, args->seed);
    add_stop_option(app, args->stop);
    add_grammar_options(app, args->grammar);
    add_context_options(app, args->context);
    app.add_option("--tokens", args->tokens, "The prompt as comma-separated token ids (instead of -p/--file)");
    app.add_flag("--echo", args->echo, "Print the prompt before the continuation");
    app.add_flag("--verbose", args->verbose, "More load and timing detail on stderr");
    app.add_option("--logits-out", args->logits_out,
                   "Write the logits after the prompt (n_vocab float32, little-endian) to this file");
    app.add_flag("--logits-all", args->logits_all,
                 "With --logits-out: the logits after every prompt token (n_prompt rows of n_vocab)");
    return [args, &app](Io& io) {
        std::string prompt = args->prompt;
        const bool by_tokens = app.count("--tokens") > 0;
        if (by_tokens && (app.count("--prompt") > 0 || !args->file.empty())) {
            throw Error(ErrorCode::InvalidArgument, "give one of -p, --file and --tokens");
        }
        if (args->logits_all && args->logits_out.empty()) {
            throw Error(ErrorCode::InvalidArgument, "--logits-all needs --logits-out FILE");
        }
        if (by_tokens) {
            // The prompt is given as ids.
        } else if (!args->file.empty()) {
            if (app.count("--prompt") > 0) throw Error(ErrorCode::InvalidArgument, "give -p or --file, not both");
            std::ifstream in(args->file, std::ios::binary);
            if (!in) throw Error(ErrorCode::Io, args->file + ": cannot open");
            std::ostringstream s;
            s << in.rdbuf();
            prompt = s.str();
        } else if (app.count("--prompt") == 0) {
            throw Error(ErrorCode::InvalidArgument, "a prompt is required: -p TEXT or --file PATH");
        }
        // Before the model loads: a bad grammar or schema fails fast.
        std::shared_ptr<const runtime::Grammar> grammar = load_grammar(args->grammar);
        auto t0 = std::chrono::steady_clock::now();
        std::string path = args->model.empty() ? default_model_path() : args->model;
        std::shared_ptr<const model::Model> model = model::Model::load(path);
        const model::HParams& h = model->hparams();
        runtime::Context ctx(model, resolve_context(args->context, h));
        const uint32_t n_ctx = ctx.n_ctx();
        if (args->verbose) {
            io.err << "loom: loaded " << path << " (" << model->arch().name << ", " << h.n_layer << " layers, n_embd "
                   << h.n_embd << ", n_vocab " << h.n_vocab << ") in " << seconds_since(t0) << " s, n_ctx " << n_ctx
                   << ", " << ctx.n_threads() << " threads, " << kernels::isa_name(ctx.kernels().isa())
                   << " kernels, KV cache " << gguf::ggml_type_name(ctx.kv_type()) << " "
                   << format_bytes(ctx.kv_bytes()) << "\n";
        }
        runtime::Sampler sampler(resolve_seed(args->sampler, args->seed), {.n_vocab = h.n_vocab, .n_ctx = n_ctx});
        runtime::StopMatcher stop(args->stop);

        const tokenizer::Tokenizer& tok = model->tokenizer();
        std::unique_ptr<runtime::GrammarMatcher> matcher;
        if (grammar) {
            auto t_trie = std::chrono::steady_clock::now();
            matcher = std::make_unique<runtime::GrammarMatcher>(
                grammar, runtime::TokenTrie::from_tokenizer(tok));
            if (args->verbose) {
                io.err << "loom: token trie built in " << seconds_since(t_trie) << " s\n";
            }
        }
        std::vector<tokenizer::TokenId> ids = by_tokens ? parse_token_list(args->tokens) : tok.encode(prompt, true, false);
        if (ids.empty()) throw Error(ErrorCode::InvalidArgument, "the prompt tokenizes to nothing");
        if (ids.size() >= n_ctx) {
            throw Error(ErrorCode::OutOfRange, "the prompt has " + std::to_string(ids.size()) +
                                                   " tokens, more than the context of " + std::to_string(n_ctx) +
                                                   " allows (raise -c)");
        }
        if (args->echo) io.out << prompt << std::flush;
        auto t_prompt = std::chrono::steady_clock::now();
        std::span<const float> logits;
        std::span<const float> all;
        if (args->logits_all) {
            all = ctx.decode_all(ids);
            logits = all.last(h.n_vocab);
        } else {
            logits = ctx.decode(ids);
        }
        double prompt_s = seconds_since(t_prompt);
        if (!args->logits_out.empty()) {
            write_floats(args->logits_out, args->logits_all ? all : logits);
        }

        // Penalties look back over the prompt too, as llama-cli's do.
        for (tokenizer::TokenId id : ids) sampler.accept(id);
        // Text flows token piece -> UTF-8 stream decoder -> stop-string matcher -> stdout,
        // so a stop string is never printed, even in part.
        tokenizer::StreamDecoder stream;
        auto t_gen = std::chrono::steady_clock::now();
        int32_t generated = 0;
        std::string stop_reason = "length";
        while (args->n_predict < 0 || generated < args->n_predict) {
            tokenizer::TokenId next =
                matcher ? sampler.sample(logits, *matcher) : sampler.sample(logits);
            if (next == tokenizer::kNoToken) {
                stop_reason = "the grammar allows no token here";
                break;
            }
            if (tok.vocab().is_eog(next)) {
                stop_reason = "end of generation";
                break;
            }
            sampler.accept(next);
            if (matcher) matcher->accept(next);
            ++generated;
            io.out << stop.push(stream.push(tok.piece(next, false))) << std::flush;
            if (stop.stopped()) {
                stop_reason = "stop string";
                break;
            }
            if (matcher && matcher->done()) {
                stop_reason = "grammar complete";
                break;
            }
            // A full context ends the generation (documented policy: no context shift).
            if (ctx.n_past() >= n_ctx) {
                stop_reason = "context full";
                break;
            }
            std::array<tokenizer::TokenId, 1> one{next};
            logits = ctx.decode(one);
        }
        if (!stop.stopped()) io.out << stop.push(stream.finish()) << stop.finish();
        io.out << std::flush;
        double gen_s = seconds_since(t_gen);
        io.err << "\nloom: prompt " << ids.size() << " tokens in " << prompt_s << " s ("
               << (prompt_s > 0 ? static_cast<double>(ids.size()) / prompt_s : 0.0) << " tok/s), generated "
               << generated << " tokens in " << gen_s << " s ("
               << (gen_s > 0 ? generated / gen_s : 0.0) << " tok/s), stopped: " << stop_reason << "\n";
        return 0;
    };
}

}  // namespace loom::cli

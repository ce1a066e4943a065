// `loom run`: load, tokenize, evaluate the prompt, sample and stream until -n tokens or
// an end-of-generation token.
#include "cli/run_command.h"

#include <CLI/CLI.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>

#include "cli/default_model.h"
#include "cli/sampler_options.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/context.h"
#include "runtime/sampler.h"

namespace loom::cli {
namespace {

struct RunArgs {
    std::string model;
    std::string prompt;
    std::string file;
    int32_t n_predict = 128;
    runtime::SamplerParams sampler;
    int64_t seed = -1;
    uint32_t n_ctx = 0;
    int32_t threads = 0;
    bool echo = false;
    bool verbose = false;
    std::string logits_out;
};

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
    app.add_option("-c,--ctx-size", args->n_ctx, "Context size in tokens (default: min(4096, trained))")
        ->check(CLI::Range(0, 1 << 24));
    app.add_option("-t,--threads", args->threads,
                   "Threads (the reference path computes on one thread; accepted for compatibility)")
        ->check(CLI::Range(0, 1024));
    app.add_flag("--echo", args->echo, "Print the prompt before the continuation");
    app.add_flag("--verbose", args->verbose, "More load and timing detail on stderr");
    app.add_option("--logits-out", args->logits_out,
                   "Write the logits after the prompt (n_vocab float32, little-endian) to this file");
    return [args, &app](Io& io) {
        std::string prompt = args->prompt;
        if (!args->file.empty()) {
            if (app.count("--prompt") > 0) throw Error(ErrorCode::InvalidArgument, "give -p or --file, not both");
            std::ifstream in(args->file, std::ios::binary);
            if (!in) throw Error(ErrorCode::Io, args->file + ": cannot open");
            std::ostringstream s;
            s << in.rdbuf();
            prompt = s.str();
        } else if (app.count("--prompt") == 0) {
            throw Error(ErrorCode::InvalidArgument, "a prompt is required: -p TEXT or --file PATH");
        }
        auto t0 = std::chrono::steady_clock::now();
        std::string path = args->model.empty() ? default_model_path() : args->model;
        std::shared_ptr<const model::Model> model = model::Model::load(path);
        const model::HParams& h = model->hparams();
        uint32_t n_ctx = args->n_ctx != 0 ? args->n_ctx : std::min<uint32_t>(4096, h.n_ctx_train);
        runtime::Context ctx(model, n_ctx);
        if (args->verbose) {
            io.err << "loom: loaded " << path << " (" << model->arch().name << ", " << h.n_layer << " layers, n_embd "
                   << h.n_embd << ", n_vocab " << h.n_vocab << ") in " << seconds_since(t0) << " s, n_ctx " << n_ctx
                   << "\n";
        }
        runtime::Sampler sampler(resolve_seed(args->sampler, args->seed));

        const tokenizer::Tokenizer& tok = model->tokenizer();
        std::vector<tokenizer::TokenId> ids = tok.encode(prompt, true, false);
        if (ids.empty()) throw Error(ErrorCode::InvalidArgument, "the prompt tokenizes to nothing");
        if (ids.size() >= n_ctx) {
            throw Error(ErrorCode::OutOfRange, "the prompt has " + std::to_string(ids.size()) +
                                                   " tokens, more than the context of " + std::to_string(n_ctx) +
                                                   " allows (raise -c)");
        }
        if (args->echo) io.out << prompt << std::flush;
        auto t_prompt = std::chrono::steady_clock::now();
        std::span<const float> logits = ctx.decode(ids);
        double prompt_s = seconds_since(t_prompt);
        if (!args->logits_out.empty()) {
            std::ofstream out(args->logits_out, std::ios::binary);
            out.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size_bytes()));
            if (!out) throw Error(ErrorCode::Io, args->logits_out + ": cannot write");
        }

        tokenizer::StreamDecoder stream;
        auto t_gen = std::chrono::steady_clock::now();
        int32_t generated = 0;
        std::string stop_reason = "length";
        while (args->n_predict < 0 || generated < args->n_predict) {
            tokenizer::TokenId next = sampler.sample(logits);
            if (tok.vocab().is_eog(next)) {
                stop_reason = "end of generation";
                break;
            }
            ++generated;
            io.out << stream.push(tok.piece(next, false)) << std::flush;
            if (ctx.n_past() >= n_ctx) {
                stop_reason = "context full";
                break;
            }
            std::array<tokenizer::TokenId, 1> one{next};
            logits = ctx.decode(one);
        }
        io.out << stream.finish() << std::flush;
        double gen_s = seconds_since(t_gen);
        io.err << "\nloom: prompt " << ids.size() << " tokens in " << prompt_s << " s ("
               << (prompt_s > 0 ? static_cast<double>(ids.size()) / prompt_s : 0.0) << " tok/s), generated "
               << generated << " tokens in " << gen_s << " s ("
               << (gen_s > 0 ? generated / gen_s : 0.0) << " tok/s), stopped: " << stop_reason << "\n";
        return 0;
    };
}

}  // namespace loom::cli

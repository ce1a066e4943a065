// `loom serve`: flags into ApiOptions, the server, and the signal wait that ends it.
#include "cli/serve_command.h"

#include <CLI/CLI.hpp>
#include <pthread.h>

#include <csignal>
#include <filesystem>
#include <memory>

#include "cli/context_options.h"
#include "cli/default_model.h"
#include "core/error.h"
#include "core/format.h"
#include "model/model.h"
#include "server/api_server.h"

namespace loom::cli {
namespace {

struct ServeArgs {
    std::string model;
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    uint32_t parallel = 4;
    ContextArgs context;
    std::string api_key;
    size_t max_body = 16u << 20;
    size_t queue = 64;
    uint32_t step_tokens = 256;
    std::string chat_template;
    double shutdown_grace = 10.0;
};

}  // namespace

CommandRun setup_serve(CLI::App& app) {
    auto args = std::make_shared<ServeArgs>();
    app.add_option("-m,--model", args->model, "GGUF model (default: the default model)");
    app.add_option("--host", args->host, "Address to listen on (default 127.0.0.1: this machine only)");
    app.add_option("--port", args->port, "TCP port (0: any free port, printed at start)");
    app.add_option("--parallel", args->parallel, "Requests generating at once (slots); more wait in the queue")
        ->check(CLI::Range(1, 256));
    add_context_options(app, args->context);
    app.add_option("--api-key", args->api_key, "Require \"Authorization: Bearer KEY\" on every request but /health");
    app.add_option("--max-body", args->max_body, "Largest request body in bytes (413 beyond)")
        ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
    app.add_option("--queue", args->queue, "Requests that may wait for a slot (503 beyond)")
        ->check(CLI::Range(size_t{1}, size_t{1} << 16));
    app.add_option("--step-tokens", args->step_tokens,
                   "Most tokens evaluated per scheduler step (prompts are processed in chunks of it)")
        ->check(CLI::Range(1, 1 << 16));
    app.add_option("--chat-template", args->chat_template, "Jinja chat template file (default: the model's)");
    app.add_option("--shutdown-grace", args->shutdown_grace,
                   "Seconds requests in flight get to finish after SIGINT/SIGTERM")
        ->check(CLI::Range(0.0, 3600.0));
    return [args](Io& io) {
        // SIGINT and SIGTERM are blocked in every thread (the server's threads inherit the
        // mask) and taken synchronously below with sigwait: no handler, no global flag.
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);

        const std::string path = args->model.empty() ? default_model_path() : args->model;
        std::shared_ptr<const model::Model> model = model::Model::load(path);
        const runtime::ContextParams cp = resolve_context(args->context, model->hparams());
        server::ApiOptions options;
        options.http.host = args->host;
        options.http.port = args->port;
        options.http.limits.max_body_bytes = args->max_body;
        options.http.shutdown_grace =
            std::chrono::milliseconds(static_cast<int64_t>(args->shutdown_grace * 1000.0) + 1000);
        options.scheduler = server::SchedulerParams{.n_slots = args->parallel,
                                                    .n_ctx = cp.n_ctx,
                                                    .n_batch = cp.n_batch,
                                                    .step_tokens = args->step_tokens,
                                                    .n_threads = cp.n_threads,
                                                    .isa = cp.isa,
                                                    .kv_type = cp.kv_type,
                                                    .max_queue = args->queue};
        options.api_key = args->api_key;
        options.model_id = std::filesystem::path(path).stem().string();
        options.chat_template_file = args->chat_template;
        server::ApiServer api(model, options);
        io.err << "loom serve: " << options.model_id << " (" << model->arch().name << "), " << args->parallel
               << " slots of " << cp.n_ctx << " tokens, KV cache " << gguf::ggml_type_name(cp.kv_type) << " "
               << format_bytes(api.kv_bytes()) << ", " << kernels::isa_name(cp.isa) << " kernels\n";
        io.err << "loom serve: listening on http://" << args->host << ":" << api.port() << std::endl;

        int sig = 0;
        sigwait(&signals, &sig);
        io.err << "loom serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
               << ", finishing requests in flight" << std::endl;
        const bool clean = api.shutdown(std::chrono::milliseconds(static_cast<int64_t>(args->shutdown_grace * 1000.0)));
        io.err << "loom serve: stopped" << (clean ? "" : " (requests still running were cancelled)") << std::endl;
        return 0;
    };
}

}  // namespace loom::cli

// ApiServer: the OpenAI-compatible HTTP API of `loom serve` — routes, authentication,
// health and metrics — joining the HTTP layer (HttpServer, on its I/O thread) with the
// Scheduler that owns the model. Handlers only parse, template, tokenize and format;
// every generation is a job for the scheduler (STYLE.md §5).
//
//   ApiServer api(model, options);         // listening once constructed
//   ... api.shutdown(std::chrono::seconds(10));
//
// Endpoints: POST /v1/chat/completions, POST /v1/completions, POST /v1/embeddings,
// GET /v1/models, GET /v1/models/{id}, GET /health, GET /metrics (Prometheus text).
// Errors are OpenAI's {"error": {"message", "type", "param", "code"}} with the status:
// 400 bad request, 401 missing or wrong API key, 404 unknown path or model, 405 wrong
// method, 413 body over the limit, 503 queue full (Retry-After), 500 a failed job.
//
// Errors: the constructor throws loom::Error when the address cannot be bound or the
// scheduler cannot be made (e.g. a KV cache type the model's heads cannot hold).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/chat_prompt.h"
#include "server/http_server.h"
#include "server/openai_types.h"
#include "server/scheduler.h"
#include "server/tool_calls.h"

namespace loom::server {

struct ApiShared;  // request counters and replies, shared with callbacks (api_shared.h)

struct ApiOptions {
    ServerOptions http;
    SchedulerParams scheduler;
    std::string api_key;             // non-empty: requests need "Authorization: Bearer KEY"
    std::string model_id;            // the id /v1/models lists (the file's stem)
    std::string chat_template_file;  // empty: the model's own template
};

class ApiServer {
public:
    ApiServer(std::shared_ptr<const model::Model> model, ApiOptions options);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    uint16_t port() const;
    size_t kv_bytes() const { return scheduler_->kv_bytes(); }
    // Stops accepting connections, lets requests in flight finish for up to grace, then
    // cancels the rest and returns (true when nothing had to be cancelled).
    bool shutdown(std::chrono::milliseconds grace);

private:
    void handle(HttpRequest request, std::shared_ptr<Responder> responder);
    void chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder);
    void completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder);
    void embeddings(const HttpRequest& request, const std::shared_ptr<Responder>& responder);
    std::string metrics_text() const;
    // Hands a generation job to the scheduler; 503 when the queue is full.
    void submit(const std::shared_ptr<GenerationJob>& job);
    std::shared_ptr<GenerationJob> make_job(const SamplingRequest& sampling, std::vector<TokenId> prompt,
                                            const std::shared_ptr<Responder>& responder) const;
    ResponseMeta make_meta(std::string_view prefix);

    std::shared_ptr<const model::Model> model_;
    ApiOptions options_;
    std::unique_ptr<ChatPrompt> chat_;  // null: the model has no chat template
    std::string chat_error_;            // why, for /v1/chat/completions
    ToolFamily tool_family_ = ToolFamily::Generic;  // the template's tool-call syntax
    std::shared_ptr<ApiShared> shared_;  // outlives handlers: callbacks hold it
    std::unique_ptr<Scheduler> scheduler_;
    std::atomic<uint64_t> next_id_{0};
    int64_t started_ = 0;               // Unix seconds, the models' "created"
    std::unique_ptr<HttpServer> http_;  // last: it calls handle() as soon as it exists
};

}  // namespace loom::server

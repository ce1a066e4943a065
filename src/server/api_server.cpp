// Routing, authentication, health, models and metrics of the API (see api_server.h);
// the generation endpoints are in api_generation.cpp.
#include "server/api_server.h"

#include <ctime>
#include <sstream>

#include "core/error.h"
#include "server/api_shared.h"
#include "server/openai_format.h"

namespace loom::server {
namespace {

HttpResponse json_response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.headers.add("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

// The error type OpenAI uses for each status.
std::string error_type(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 429: return "rate_limit_error";
        default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

bool authorized(const HttpRequest& request, const std::string& key) {
    if (key.empty()) return true;
    const std::string* auth = request.headers.find("Authorization");
    if (auth == nullptr) return false;
    const std::string_view value = trim_ows(*auth);
    constexpr std::string_view kBearer = "Bearer ";
    return value.size() > kBearer.size() && ascii_iequals(value.substr(0, kBearer.size()), kBearer) &&
           trim_ows(value.substr(kBearer.size())) == key;
}

}  // namespace

void ApiShared::count(int status) {
    std::lock_guard lock(mutex);
    ++requests_by_status[status];
}

bool ApiShared::reply(Responder& responder, int status, std::string body) {
    count(status);
    return responder.respond(json_response(status, std::move(body)));
}

bool ApiShared::reply_error(Responder& responder, const ApiError& error) {
    HttpResponse r = json_response(error.status, error_body(error));
    if (error.status == 503) r.headers.add("Retry-After", "1");
    count(error.status);
    return responder.respond(r);
}

ApiServer::ApiServer(std::shared_ptr<const model::Model> model, ApiOptions options)
    : model_(std::move(model)), options_(std::move(options)), shared_(std::make_shared<ApiShared>()) {
    started_ = static_cast<int64_t>(std::time(nullptr));
    try {
        chat_ = std::make_unique<ChatPrompt>(model_, options_.chat_template_file);
        tool_family_ = detect_tool_family(chat_->source());
    } catch (const Error& e) {
        // A base model without a template still serves completions and embeddings; a
        // template file the user named must work, though.
        if (!options_.chat_template_file.empty() || e.code() != ErrorCode::NotFound) throw;
        chat_error_ = e.what();
    }
    scheduler_ = std::make_unique<Scheduler>(model_, options_.scheduler);
    ServerOptions http = options_.http;
    http.error_response = [](int status, std::string_view message) {
        return json_response(status, error_body(ApiError(status, std::string(message), "", "", error_type(status))));
    };
    http_ = std::make_unique<HttpServer>(
        http, [this](HttpRequest request, std::shared_ptr<Responder> responder) {
            handle(std::move(request), std::move(responder));
        });
}

ApiServer::~ApiServer() {
    if (http_) http_->stop();
    scheduler_.reset();  // cancels what is left: responders see their jobs end
    http_.reset();
}

uint16_t ApiServer::port() const { return http_->port(); }

bool ApiServer::shutdown(std::chrono::milliseconds grace) {
    // The listener closes at once; responses in flight keep their connections for the
    // HTTP layer's grace while the scheduler finishes their jobs.
    http_->stop();
    const bool drained = scheduler_->drain(grace);
    http_->wait();
    return drained;
}

ResponseMeta ApiServer::make_meta(std::string_view prefix) {
    ResponseMeta meta;
    std::ostringstream id;
    id << prefix << std::hex << started_ << '-' << std::dec << next_id_.fetch_add(1);
    meta.id = id.str();
    meta.model = options_.model_id;
    meta.created = static_cast<int64_t>(std::time(nullptr));
    return meta;
}

void ApiServer::handle(HttpRequest request, std::shared_ptr<Responder> responder) {
    try {
        const std::string& path = request.path;
        if (path == "/health" || path == "/v1/health") {
            if (request.method != "GET" && request.method != "HEAD") throw ApiError(405, "use GET " + path);
            shared_->reply(*responder, 200, R"({"status":"ok"})");
            return;
        }
        if (!authorized(request, options_.api_key)) {
            throw ApiError(401, "invalid or missing API key: send the header \"Authorization: Bearer KEY\"", "",
                           "invalid_api_key", "authentication_error");
        }
        const auto want = [&](std::string_view method) {
            if (request.method != method) {
                throw ApiError(405, "use " + std::string(method) + " " + path + " (got " + request.method + ")");
            }
        };
        if (path == "/v1/chat/completions" || path == "/chat/completions") {
            want("POST");
            chat_completions(request, responder);
        } else if (path == "/v1/completions" || path == "/completions") {
            want("POST");
            completions(request, responder);
        } else if (path == "/v1/embeddings" || path == "/embeddings") {
            want("POST");
            embeddings(request, responder);
        } else if (path == "/v1/models" || path == "/models") {
            want("GET");
            shared_->reply(*responder, 200, models_body(options_.model_id, started_, "loom"));
        } else if (path.rfind("/v1/models/", 0) == 0) {
            want("GET");
            const std::string id = path.substr(std::string_view("/v1/models/").size());
            if (id != options_.model_id) {
                throw ApiError(404, "the model '" + id + "' does not exist (this server has '" + options_.model_id + "')",
                               "model", "model_not_found", "not_found_error");
            }
            shared_->reply(*responder, 200, model_body(options_.model_id, started_, "loom"));
        } else if (path == "/metrics") {
            want("GET");
            HttpResponse r;
            r.headers.add("Content-Type", "text/plain; version=0.0.4");
            r.body = metrics_text();
            shared_->count(200);
            responder->respond(r);
        } else {
            throw ApiError(404, "unknown endpoint " + request.method + " " + path, "", "", "not_found_error");
        }
    } catch (const ApiError& e) {
        ApiError shaped = e;
        if (shaped.type == "invalid_request_error") shaped.type = error_type(e.status);
        shared_->reply_error(*responder, shaped);
    } catch (const Error& e) {
        // Template failures (raise_exception on a conversation the template refuses),
        // tokenizer limits, the scheduler's refusal of a job's values: the request's fault.
        // I/O errors are the server's.
        shared_->reply_error(*responder, e.code() == ErrorCode::Io ? ApiError(500, e.what(), "", "", "server_error")
                                                                   : ApiError(400, e.what()));
    } catch (const std::exception& e) {
        shared_->reply_error(*responder, ApiError(500, e.what(), "", "", "server_error"));
    }
}

std::string ApiServer::metrics_text() const {
    const SchedulerStats s = scheduler_->stats();
    std::ostringstream out;
    const auto metric = [&](const char* name, const char* type, const char* help, auto value) {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
            << name << ' ' << value << '\n';
    };
    out << "# HELP loom_requests_total Requests answered, by HTTP status.\n# TYPE loom_requests_total counter\n";
    {
        std::lock_guard lock(shared_->mutex);
        for (const auto& [status, n] : shared_->requests_by_status) {
            out << "loom_requests_total{status=\"" << status << "\"} " << n << '\n';
        }
    }
    metric("loom_prompt_tokens_total", "counter", "Prompt tokens evaluated (reused KV-cache prefixes not counted).",
           s.prompt_tokens);
    metric("loom_generated_tokens_total", "counter", "Tokens generated.", s.generated_tokens);
    metric("loom_jobs_done_total", "counter", "Generation jobs finished (any reason).", s.jobs_done);
    metric("loom_tokens_per_second", "gauge",
           "Tokens (prompt and generated) evaluated per second of forward passes since start.",
           s.decode_seconds > 0 ? static_cast<double>(s.prompt_tokens + s.generated_tokens) / s.decode_seconds : 0.0);
    metric("loom_queue_depth", "gauge", "Requests waiting for a slot.", s.queue_depth);
    metric("loom_slots_active", "gauge", "Slots generating.", s.slots_active);
    metric("loom_slots_total", "gauge", "Slots (--parallel).", s.slots_total);
    metric("loom_kv_cache_used_cells", "gauge", "KV-cache positions holding tokens, over all slots.", s.kv_cells_used);
    metric("loom_kv_cache_total_cells", "gauge", "KV-cache positions, over all slots.", s.kv_cells_total);
    metric("loom_kv_cache_usage_ratio", "gauge", "Used over total KV-cache positions.",
           s.kv_cells_total > 0 ? static_cast<double>(s.kv_cells_used) / static_cast<double>(s.kv_cells_total) : 0.0);
    return out.str();
}

}  // namespace loom::server

// The generation endpoints: /v1/chat/completions, /v1/completions, /v1/embeddings.
// Each handler parses and validates the request, renders and tokenizes the prompt, and
// hands a job to the scheduler; the job's callbacks (on the scheduler thread) format
// the streamed chunks or the final body. Nothing here touches the model's state.
#include <chrono>
#include <deque>
#include <random>

#include "core/error.h"
#include "server/api_server.h"
#include "server/api_shared.h"
#include "server/openai_format.h"
#include "server/json_schema_grammar.h"
#include "server/openai_request.h"

namespace loom::server {
runtime::SamplerParams sampler_params(const SamplingRequest& r) {
    runtime::SamplerParams p;
    if (r.temperature) p.temperature = *r.temperature;
    if (r.top_p) p.top_p = *r.top_p;
    if (r.top_k) p.top_k = *r.top_k;
    if (r.min_p) p.min_p = *r.min_p;
    if (r.presence_penalty) p.presence_penalty = *r.presence_penalty;
    if (r.frequency_penalty) p.frequency_penalty = *r.frequency_penalty;
    if (r.repeat_penalty) p.repeat_penalty = *r.repeat_penalty;
    for (const auto& [token, bias] : r.logit_bias) p.logit_bias.push_back({token, bias});
    // No seed: a fresh one per request (OpenAI's behaviour).
    p.seed = r.seed ? *r.seed : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    return p;
}

void append_logprobs(std::vector<TokenLogprob>& to, const std::vector<TokenLogprob>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

bool ended_without_result(const GenerationDone& done, ApiShared& shared, Responder& responder, EventStream* stream) {
    if (done.finish_reason == "cancelled") return true;
    if (done.finish_reason != "error") return false;
    const ApiError error(500, done.error, "", "", "server_error");
    if (stream == nullptr || !stream->begun()) {
        shared.reply_error(responder, error);
        return true;
    }
    stream->send(error_body(error));
    stream->send("[DONE]");
    stream->close();
    return true;
}

void EventStream::send(std::string data) {
    if (!begun_) {
        begun_ = true;
        shared_->count(200);
        responder_->begin_stream(200, sse_headers());
    }
    pending_.push_back(std::move(data));
    flush();
}

void EventStream::close() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    flush();
    while (!pending_.empty()) {
        if (responder_->wait_writable(std::chrono::milliseconds(100)) == WriteStatus::Closed) return;
        flush();
        if (!pending_.empty() && std::chrono::steady_clock::now() > deadline) {
            responder_->abort();
            return;
        }
    }
    responder_->end();
}

void EventStream::flush() {
    while (!pending_.empty()) {
        const WriteStatus st = responder_->send_event(pending_.front());
        if (st == WriteStatus::Full) return;
        if (st == WriteStatus::Closed) {
            pending_.clear();
            return;
        }
        pending_.pop_front();
    }
}

std::shared_ptr<const runtime::Grammar> response_format_grammar(const ResponseFormat& format) {
    try {
        switch (format.kind) {
            case ResponseFormat::Kind::Text: return nullptr;
            case ResponseFormat::Kind::JsonObject: return runtime::Grammar::parse(json_object_grammar());
            case ResponseFormat::Kind::JsonSchema:
                return runtime::Grammar::parse(json_schema_to_grammar(format.schema));
        }
    } catch (const Error& e) {
        throw ApiError(400, std::string("response_format.json_schema.schema: ") + e.what(),
                       "response_format.json_schema.schema");
    }
    return nullptr;
}

std::shared_ptr<GenerationJob> ApiServer::make_job(const SamplingRequest& sampling, std::vector<TokenId> prompt,
                                                   const std::shared_ptr<Responder>& responder) const {
    const uint32_t n_ctx = scheduler_->n_ctx();
    const size_t max_tokens = sampling.max_tokens.value_or(0);
    if (prompt.empty()) throw ApiError(400, "the prompt is empty (it tokenizes to nothing)", "prompt");
    if (prompt.size() >= n_ctx || prompt.size() + max_tokens > n_ctx) {
        throw ApiError(400,
                       "this model's context is " + std::to_string(n_ctx) + " tokens per request (-c); the request has " +
                           std::to_string(prompt.size()) + " prompt tokens" +
                           (max_tokens > 0 ? " and asks for up to " + std::to_string(max_tokens) + " more" : "") +
                           ". Shorten the prompt or lower max_tokens.",
                       "messages", "context_length_exceeded");
    }
    const uint32_t n_vocab = model_->hparams().n_vocab;
    for (const auto& [token, bias] : sampling.logit_bias) {
        if (token < 0 || static_cast<uint32_t>(token) >= n_vocab) {
            throw ApiError(400,
                           "logit_bias: token " + std::to_string(token) + " is not in the vocabulary (ids 0.." +
                               std::to_string(n_vocab - 1) + ")",
                           "logit_bias");
        }
    }
    auto job = std::make_shared<GenerationJob>();
    job->prompt = std::move(prompt);
    job->sampling = sampler_params(sampling);
    job->max_tokens = static_cast<uint32_t>(max_tokens);
    job->stop = sampling.stop;
    job->logprobs = sampling.logprobs;
    job->top_logprobs = sampling.top_logprobs;
    job->cancelled = [responder] { return responder->cancelled(); };
    return job;
}

void ApiServer::submit(const std::shared_ptr<GenerationJob>& job) {
    bool queued = false;
    try {
        queued = scheduler_->submit(job);
    } catch (const Error& e) {
        throw ApiError(400, e.what());
    }
    if (!queued) {
        throw ApiError(503, "the server is busy (every slot is generating and the queue is full); retry later", "",
                       "server_busy", "server_error");
    }
}

void ApiServer::completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
    CompletionRequest req = parse_completion_request(request.body);
    const tokenizer::Tokenizer& tok = model_->tokenizer();
    std::vector<TokenId> prompt = req.prompt_is_tokens ? req.prompt_tokens : tok.encode(req.prompt_text, true, true);
    std::string prompt_text = req.prompt_is_tokens ? tok.decode(req.prompt_tokens, true) : req.prompt_text;
    std::shared_ptr<GenerationJob> job = make_job(req.sampling, std::move(prompt), responder);
    job->grammar = response_format_grammar(req.response_format);
    const ResponseMeta meta = make_meta("cmpl-");
    std::shared_ptr<ApiShared> shared = shared_;
    const std::string echoed = req.echo ? prompt_text : std::string();
    if (req.stream) {
        auto stream = std::make_shared<EventStream>(responder, shared);
        auto offset = std::make_shared<size_t>(utf8_length(echoed));
        const bool usage = req.include_usage;
        job->on_delta = [stream, meta, offset, echoed](const GenerationDelta& d) {
            if (!stream->begun() && !echoed.empty()) stream->send(completion_chunk(meta, echoed, ""));
            stream->send(completion_chunk(meta, d.text, "", d.logprobs, *offset));
            *offset += utf8_length(d.text);
        };
        job->on_done = [stream, meta, usage, echoed, responder, shared](const GenerationDone& done) {
            if (ended_without_result(done, *shared, *responder, stream.get())) return;
            if (!stream->begun() && !echoed.empty()) stream->send(completion_chunk(meta, echoed, ""));
            stream->send(completion_chunk(meta, "", done.finish_reason));
            if (usage) stream->send(usage_chunk(meta, false, done.prompt_tokens, done.completion_tokens));
            stream->send("[DONE]");
            stream->close();
        };
    } else {
        auto result = std::make_shared<GenerationResult>();
        const bool logprobs = req.sampling.logprobs;
        job->on_delta = [result](const GenerationDelta& d) {
            result->text += d.text;
            append_logprobs(result->logprobs, d.logprobs);
        };
        job->on_done = [result, meta, logprobs, echoed, responder, shared](const GenerationDone& done) {
            if (ended_without_result(done, *shared, *responder, nullptr)) return;
            result->finish_reason = done.finish_reason;
            result->prompt_tokens = done.prompt_tokens;
            result->completion_tokens = done.completion_tokens;
            shared->reply(*responder, 200, completion_body(meta, *result, logprobs, echoed));
        };
    }
    submit(job);
}

void ApiServer::embeddings(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
    EmbeddingRequest req = parse_embedding_request(request.body);
    const tokenizer::Tokenizer& tok = model_->tokenizer();
    auto job = std::make_shared<EmbeddingJob>();
    uint32_t tokens = 0;
    for (size_t i = 0; i < req.inputs.size(); ++i) {
        const EmbeddingInput& in = req.inputs[i];
        std::vector<TokenId> ids = in.is_tokens ? in.tokens : tok.encode(in.text, true, true);
        const std::string param = "input[" + std::to_string(i) + "]";
        if (ids.empty()) throw ApiError(400, param + " tokenizes to nothing", param);
        if (ids.size() > scheduler_->n_ctx()) {
            throw ApiError(400,
                           param + " has " + std::to_string(ids.size()) + " tokens, more than the context of " +
                               std::to_string(scheduler_->n_ctx()),
                           param, "context_length_exceeded");
        }
        tokens += static_cast<uint32_t>(ids.size());
        job->inputs.push_back(std::move(ids));
    }
    std::shared_ptr<ApiShared> shared = shared_;
    const std::string model = options_.model_id;
    const bool base64 = req.base64;
    job->on_result = [responder, shared, model, base64, tokens](std::vector<std::vector<float>> vectors) {
        shared->reply(*responder, 200, embeddings_body(model, vectors, base64, tokens));
    };
    job->on_error = [responder, shared](std::string message) {
        shared->reply_error(*responder, ApiError(500, std::move(message), "", "", "server_error"));
    };
    bool queued = false;
    try {
        queued = scheduler_->submit(job);
    } catch (const Error& e) {
        throw ApiError(400, e.what(), "input");
    }
    if (!queued) throw ApiError(503, "the server is busy; retry later", "", "server_busy", "server_error");
}

}  // namespace loom::server

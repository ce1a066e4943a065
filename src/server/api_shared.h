// What the API's handlers and their jobs' callbacks (on the scheduler thread) share:
// the request counters /metrics reports and the one way replies are sent, so every
// answer is counted by status. Internal to server/.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/grammar.h"
#include "runtime/sampler.h"
#include "server/openai_types.h"
#include "server/responder.h"
#include "server/scheduler.h"

namespace loom::server {

struct ApiShared {
    std::mutex mutex;
    std::map<int, uint64_t> requests_by_status;  // guarded by mutex

    void count(int status);
    // A JSON response with this status; false when the client is gone.
    bool reply(Responder& responder, int status, std::string body);
    // OpenAI's error object with the error's status (503 adds Retry-After).
    bool reply_error(Responder& responder, const ApiError& error);
};

// Server-sent events of one streamed response, in order. The stream's head goes out
// with the first event (on the scheduler thread, once the job runs: a request refused
// by a full queue still gets its plain 503). An event the Responder refuses as Full
// (a client not reading) waits here and goes out with the next one.
class EventStream {
public:
    EventStream(std::shared_ptr<Responder> responder, std::shared_ptr<ApiShared> shared)
        : responder_(std::move(responder)), shared_(std::move(shared)) {}

    bool begun() const { return begun_; }
    void send(std::string data);
    // Sends what waits (for a bounded time: a client that reads nothing for that long
    // is cut off) and ends the stream.
    void close();

private:
    void flush();

    std::shared_ptr<Responder> responder_;
    std::shared_ptr<ApiShared> shared_;
    std::deque<std::string> pending_;
    bool begun_ = false;
};

// Loom's sampling defaults (llama.cpp's) with the request's values on top; a fresh
// random seed when the request gives none.
runtime::SamplerParams sampler_params(const SamplingRequest& request);

void append_logprobs(std::vector<TokenLogprob>& to, const std::vector<TokenLogprob>& from);

// For a job's on_done: true when there is no result to format — the client is gone
// (cancelled: nothing to send) or the job failed: a 500, or, in a stream already begun
// (stream non-null), an error event, [DONE] and the end of the stream.
bool ended_without_result(const GenerationDone& done, ApiShared& shared, Responder& responder, EventStream* stream);

// The grammar a response_format asks for (null for text); 400 for a schema the
// converter refuses.
std::shared_ptr<const runtime::Grammar> response_format_grammar(const ResponseFormat& format);

}  // namespace loom::server

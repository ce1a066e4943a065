// Responder: the handler's thread-safe handle on one exchange (see responder.h).
#include "server/responder.h"

#include "server/exchange.h"

namespace loom::server {

using detail::ExchangePhase;

namespace {

std::string error_bytes(const detail::ExchangeState& state, int status, std::string_view message) {
    return detail::error_response_bytes(*state.error_response, status, message, state.framing);
}

}  // namespace

Responder::Responder(std::shared_ptr<detail::ExchangeState> state) : state_(std::move(state)) {}

Responder::~Responder() {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed) return;
    if (s.phase == ExchangePhase::Waiting) {
        s.out += error_bytes(s, 500, "the request handler finished without a response");
        s.phase = ExchangePhase::Done;
    } else if (s.phase == ExchangePhase::Streaming) {
        s.phase = ExchangePhase::Aborted;
    } else {
        return;
    }
    s.notify_io(lock);
}

bool Responder::respond(const HttpResponse& response) {
    return answer(serialize_response(response, state_->framing));
}

bool Responder::respond_error(int status, std::string_view message) {
    return answer(error_bytes(*state_, status, message));
}

// The whole answer at once, if the exchange still waits for one.
bool Responder::answer(const std::string& bytes) {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed || s.phase != ExchangePhase::Waiting) return false;
    s.out += bytes;
    s.phase = ExchangePhase::Done;
    s.notify_io(lock);
    return true;
}

bool Responder::begin_stream(int status, const HttpHeaders& headers) {
    std::string head = serialize_stream_head(status, headers, state_->framing);
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed || s.phase != ExchangePhase::Waiting) return false;
    s.out += head;
    if (s.framing.head) {
        s.phase = ExchangePhase::Done;
    } else {
        s.phase = ExchangePhase::Streaming;
        s.chunked = !s.framing.http10;
        s.close_after = s.framing.http10;  // the close is what ends an HTTP/1.0 body
    }
    s.notify_io(lock);
    return true;
}

WriteStatus Responder::write(std::string_view bytes) {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed || s.phase != ExchangePhase::Streaming) return WriteStatus::Closed;
    if (bytes.empty()) return WriteStatus::Ok;
    if (s.pending() >= s.max_output_bytes) return WriteStatus::Full;
    if (s.chunked) {
        append_chunk(s.out, bytes);
    } else {
        s.out.append(bytes);
    }
    s.notify_io(lock);
    return WriteStatus::Ok;
}

WriteStatus Responder::send_event(std::string_view data, std::string_view event) {
    return write(sse_event(data, event));
}

WriteStatus Responder::send_comment(std::string_view text) { return write(sse_comment(text)); }

WriteStatus Responder::wait_writable(std::chrono::milliseconds timeout) {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    s.writable.wait_for(lock, timeout, [&] {
        return s.closed || s.phase != ExchangePhase::Streaming || s.pending() < s.max_output_bytes;
    });
    if (s.closed || s.phase != ExchangePhase::Streaming) return WriteStatus::Closed;
    return s.pending() < s.max_output_bytes ? WriteStatus::Ok : WriteStatus::Full;
}

bool Responder::end() {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed || s.phase != ExchangePhase::Streaming) return false;
    if (s.chunked) s.out += kLastChunk;
    s.phase = ExchangePhase::Done;
    s.notify_io(lock);
    return true;
}

void Responder::abort() {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed || s.phase == ExchangePhase::Done || s.phase == ExchangePhase::Aborted) return;
    s.phase = ExchangePhase::Aborted;
    s.notify_io(lock);
}

bool Responder::cancelled() const noexcept {
    return state_->cancelled.load(std::memory_order_acquire);
}

void Responder::on_cancel(std::function<void()> fn) {
    auto& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.cancelled.load(std::memory_order_relaxed)) {
        lock.unlock();
        if (fn) fn();
        return;
    }
    s.on_cancel = std::move(fn);
}

}  // namespace loom::server

// The state one request/response exchange shares between the handler's threads (through
// Responder) and the server's I/O thread. Internal to server/: handlers see Responder.
//
// Who does what: a Responder appends serialized bytes to `out` under `mutex` and, when
// the exchange is not already queued, puts it on the WakeQueue, whose eventfd wakes
// the I/O thread; the I/O thread sends from `out`, notifies `writable` when the buffer
// drains below the bound, and marks the exchange closed (cancel) when the client goes
// away or the server stops. Locks are never nested: a Responder releases `mutex`
// before it touches the WakeQueue, and the I/O thread takes the queue's list before it
// locks any exchange.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/http_response.h"

namespace loom::server {

namespace detail {

struct ExchangeState;

// Exchanges with output to send, plus the eventfd that wakes the I/O thread. Shared
// by the server and every live exchange, so a Responder kept past the server's end
// still points at a valid queue (its pushes are then never read).
class WakeQueue {
public:
    WakeQueue();  // throws loom::Error(Io) when the eventfd cannot be made
    ~WakeQueue();
    WakeQueue(const WakeQueue&) = delete;
    WakeQueue& operator=(const WakeQueue&) = delete;

    int fd() const noexcept { return fd_; }
    void push(std::shared_ptr<ExchangeState> exchange);
    // Everything pushed so far; resets the eventfd counter.
    std::vector<std::shared_ptr<ExchangeState>> take();

private:
    int fd_ = -1;
    std::mutex mutex_;
    std::vector<std::shared_ptr<ExchangeState>> ready_;
};

enum class ExchangePhase {
    Waiting,    // nothing sent yet
    Streaming,  // head sent, chunks follow
    Done,       // the whole response is in `out` (maybe not sent yet)
    Aborted,    // the handler gave up mid-response: send what is queued, then close
};

struct ExchangeState : std::enable_shared_from_this<ExchangeState> {
    // Fixed when the server creates the exchange.
    uint64_t connection_id = 0;
    ResponseFraming framing;
    size_t max_output_bytes = 0;  // bound on unsent stream bytes (backpressure)
    std::shared_ptr<WakeQueue> wake;
    std::shared_ptr<const ErrorResponder> error_response;

    std::mutex mutex;
    std::condition_variable writable;  // pending dropped below the bound, or closed
    // Guarded by mutex.
    std::string out;  // serialized bytes; out[0, out_sent) already went out
    size_t out_sent = 0;
    ExchangePhase phase = ExchangePhase::Waiting;
    bool chunked = false;      // stream framing: chunks, or close-delimited (HTTP/1.0)
    bool close_after = false;  // the connection closes after this response
    bool closed = false;       // client gone or server stopped: nothing more is sent
    bool queued = false;       // on the WakeQueue already
    std::function<void()> on_cancel;

    std::atomic<bool> cancelled{false};  // set with closed when the response is cut off

    size_t pending() const { return out.size() - out_sent; }
    // Tells the I/O thread there is output or a phase change: releases `lock` (held on
    // mutex), then pushes this exchange onto the WakeQueue unless it is queued already.
    void notify_io(std::unique_lock<std::mutex>& lock);
};

// The serialized error response in the server's format, for a parse error, a 503 or a
// failed handler. Never throws: when `make` throws (or its response does not
// serialize) a plain-text response with the same status is used, and failing that a
// bare 500.
std::string error_response_bytes(const ErrorResponder& make, int status, std::string_view message,
                                 const ResponseFraming& framing) noexcept;

// Called on the I/O thread when the exchange is cut off (client gone, write error,
// stall, shutdown): marks it closed and cancelled, wakes writers blocked on the bound,
// and runs the handler's on_cancel callback (outside the lock). Idempotent.
void cancel_exchange(ExchangeState& exchange);

}  // namespace detail
}  // namespace loom::server

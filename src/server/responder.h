// Responder: the handler's side of one request. The server hands one to the handler
// with the request; the handler answers at once, or keeps it (it is a shared_ptr) and
// answers or streams later from any thread. Every method is thread-safe and none
// blocks on the network except wait_writable(): bytes go to a per-exchange buffer that
// the server's I/O thread sends.
//
//   Complete response:   responder->respond({200, headers, body});
//   Streaming (SSE):     responder->begin_stream(200, sse_headers());
//                        while (generating && !responder->cancelled()) {
//                            if (responder->send_event(json) == WriteStatus::Full) ...
//                        }
//                        responder->send_event("[DONE]"); responder->end();
//
// Backpressure: unsent stream bytes are bounded by ServerOptions::max_output_bytes. A
// write when the buffer is at the bound is refused with Full (nothing queued): the
// caller waits (wait_writable) or skips the sequence for this step; a write below the
// bound is taken whole, so the buffer holds at most the bound plus one write.
//
// Cancellation: when the client disconnects (or the connection stalls past the idle
// timeout, or stop() cuts a stream off) cancelled() turns true, writes return Closed
// and the on_cancel callback runs once, on the I/O thread: a generation loop that checks
// cancelled() each step stops within one step. A client that half-closes its sending
// side counts as gone, as in cpp-httplib; HTTP clients keep it open until they have
// the response.
//
// Dropping the last Responder without answering sends the server's 500; dropping it in
// the middle of a stream closes the connection without the last chunk, which tells the
// client the body is incomplete.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/http_response.h"

namespace loom::server {

namespace detail {
struct ExchangeState;
}

enum class WriteStatus {
    Ok,      // queued
    Full,    // not queued: the output buffer is at its bound; retry after it drains
    Closed,  // not queued, and never will be: client gone, server stopped, or the
             // stream is not open (not begun, or ended)
};

class Responder {
public:
    // Made by the server for each request.
    explicit Responder(std::shared_ptr<detail::ExchangeState> state);
    ~Responder();
    Responder(const Responder&) = delete;
    Responder& operator=(const Responder&) = delete;

    // Sends a complete response (Content-Length framing; no body for HEAD). False when
    // a response was already begun or the client is gone. Throws loom::Error
    // (InvalidArgument) for headers the serializer refuses; nothing is sent then and
    // the handler may still respond.
    bool respond(const HttpResponse& response);
    // respond() with the server's error format (ServerOptions::error_response).
    bool respond_error(int status, std::string_view message);

    // Sends the head of a streamed response: chunked for HTTP/1.1, close-delimited for
    // HTTP/1.0. For HEAD the head is the whole response and later writes are Closed.
    // False and throws as respond().
    bool begin_stream(int status, const HttpHeaders& headers);

    // Queues `bytes` as one chunk of the stream (empty: nothing, Ok).
    WriteStatus write(std::string_view bytes);
    // write(sse_event(data, event)) and write(sse_comment(text)).
    WriteStatus send_event(std::string_view data, std::string_view event = {});
    WriteStatus send_comment(std::string_view text);

    // Blocks until the buffer is below its bound (Ok), the timeout passes (Full), or
    // the exchange is closed (Closed). Not for the I/O thread: it is the one that drains.
    WriteStatus wait_writable(std::chrono::milliseconds timeout);

    // Ends the stream (the last chunk). False when no stream is open.
    bool end();
    // Gives up mid-response: what is queued is sent, then the connection closes.
    void abort();

    // True once the response was cut off (client gone, stall, shutdown). Cheap: an
    // atomic load, meant to be checked every generation step.
    bool cancelled() const noexcept;
    // Runs fn once when the exchange is cancelled: on the I/O thread, or right away on
    // the caller's thread if it already is. fn must be quick and must not block (wake a
    // scheduler, set a flag). A second call replaces a callback that has not run.
    void on_cancel(std::function<void()> fn);

private:
    bool answer(const std::string& bytes);

    std::shared_ptr<detail::ExchangeState> state_;
};

}  // namespace loom::server

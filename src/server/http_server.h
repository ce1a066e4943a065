// HttpServer: a small HTTP/1.1 server for Loom's OpenAI-compatible API. One I/O thread
// runs an epoll loop over non-blocking sockets: it accepts connections, parses requests
// (HttpParser), hands each complete request to the handler with a Responder, and sends
// what responders queue. Loopback (127.0.0.1) by default: Loom serves this machine.
//
//   ServerOptions options;  options.port = 0;   // 0: an ephemeral port, see port()
//   HttpServer server(options, [&](HttpRequest request, std::shared_ptr<Responder> r) {
//       if (request.path != "/v1/chat/completions") { r->respond_error(404, "..."); return; }
//       scheduler.enqueue(parse(request.body), std::move(r));   // quick; no model work
//   });
//   ...  server.stop();  server.wait();              // or just destroy it
//
// The handler runs on the I/O thread, so it must be quick and must not block: parse and
// validate, then answer or hand the Responder to the thread that owns the model (the
// llama.cpp pattern, STYLE.md §5). An exception from the handler becomes the server's
// 500 (or aborts a stream already begun). Requests on one connection are answered in
// order: the next is parsed once the previous response has been sent.
//
// Threads. STYLE.md §5 says threads come only from the core ThreadPool; this class owns
// one std::thread anyway, on purpose. ThreadPool is fork-join for compute (for_range
// returns when every chunk is done, and one owner thread calls it); an event loop is
// one job that never returns until shutdown, so running it there would take a compute
// thread away from the forward pass and block the pool's owner for the server's life.
// The loop is I/O bound, owns its sockets, and is joined by wait() or the destructor.
//
// Limits: at most max_connections open connections (one more gets a 503 and is closed);
// request size limits from HttpLimits (answered as HttpParser documents); idle_timeout
// for a connection waiting for a request, for a request's next bytes, and for a client
// that stops reading a response (the response is then cancelled); request_timeout for
// the whole of one request to arrive (a 408 then: slow senders cannot hold a slot).
//
// Shutdown: stop() may be called from any thread or a signal handler (it writes an
// eventfd, which is async-signal-safe). The loop then closes the listening socket and
// idle connections, lets responses in flight finish for up to shutdown_grace, cancels
// the rest (on_cancel runs, writes return Closed), and ends. wait() joins it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/http_parser.h"
#include "server/http_response.h"
#include "server/responder.h"

namespace loom::server {

// The default ErrorResponder: a text/plain body holding the message.
HttpResponse plain_error_response(int status, std::string_view message);

struct ServerOptions {
    std::string host = "127.0.0.1";  // numeric address or name; "0.0.0.0" opens it up
    uint16_t port = 8080;            // 0: an ephemeral port (tests), read with port()
    HttpLimits limits;
    size_t max_connections = 64;
    // Bound on a stream's unsent bytes before writes get Full; 1 MiB is thousands of
    // token events, far more than a reading client ever leaves queued.
    size_t max_output_bytes = 1 << 20;
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds request_timeout{60'000};
    std::chrono::milliseconds shutdown_grace{5'000};
    ErrorResponder error_response = plain_error_response;
};

// Called on the I/O thread for each complete request.
using Handler = std::function<void(HttpRequest request, std::shared_ptr<Responder> responder)>;

class HttpServer {
public:
    // Binds and listens, then starts the I/O thread. Throws loom::Error(InvalidArgument)
    // for options that cannot work (a zero limit, a timeout not in (0, 24 h], no handler)
    // and loom::Error(Io) when the address cannot be resolved, bound (in use) or
    // listened on, or the thread or epoll cannot be made; nothing is left open then.
    HttpServer(ServerOptions options, Handler handler);
    // stop() and wait(), swallowing a loop failure (call wait() first to see it).
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The bound port (the ephemeral one when options.port was 0).
    uint16_t port() const noexcept;

    // Begins the graceful shutdown and returns at once. Async-signal-safe, idempotent,
    // callable from any thread, the handler included.
    void stop() noexcept;

    // Waits for the I/O thread to end (after stop(), or after a failure of the loop).
    // Throws loom::Error(Io) if the loop failed (epoll itself broke): every exchange is
    // cancelled then. Idempotent; not callable from the handler (it runs on that thread).
    void wait();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace loom::server

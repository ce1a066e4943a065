// Internal to server/: the I/O thread's state (HttpServer::Impl) and one connection's
// state, shared by http_server.cpp (the loop: accept, timers, shutdown) and
// connection.cpp (a connection's phases: read, parse, dispatch, send).
//
// A connection moves Reading -> Responding -> (Reading again, keep-alive | Closing ->
// Lingering -> closed). Reading: bytes go to the parser. Responding: one exchange is in
// flight; input is buffered (bounded) but not parsed, so responses keep request order.
// Closing: the loop's own last bytes (an error, a 503) go out. Lingering: the write
// side is shut; input is read and dropped until the client closes or time runs out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "server/exchange.h"
#include "server/http_parser.h"
#include "server/http_server.h"

namespace loom::server {

namespace detail {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenKey = 1;
constexpr uint64_t kStopKey = 2;
constexpr uint64_t kWakeKey = 3;
constexpr uint64_t kFirstConnectionId = 16;
constexpr size_t kReadChunk = 64 * 1024;  // one recv(); the parser takes any split
// Unparsed bytes kept while a response is in flight (pipelining). Past this the socket
// is not read until the response is done, so a client cannot make the server buffer more.
constexpr size_t kReadAheadBytes = 64 * 1024;
// After its last response the server shuts its side down and reads until the client
// closes, so unread request bytes do not turn the close into a reset that destroys the
// response on the way (RFC 9112 §9.6); this long at most.
constexpr auto kLingerTime = std::chrono::seconds(2);
// Connections over max_connections still being sent their 503; past this an extra
// connection is closed at once.
constexpr size_t kMaxRejecting = 16;
// When accept() runs out of descriptors the listening socket is left alone this long,
// since level-triggered epoll would report it again at once.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

enum class Phase { Reading, Responding, Closing, Lingering };

enum class Flush { Waiting, Blocked, Failed, Finished, FinishedClose, Aborted };

struct Connection {
    Connection(uint64_t id_, int fd_, const HttpLimits& limits)
        : id(id_), fd(fd_), parser(limits) {}

    uint64_t id;
    int fd;
    Phase phase = Phase::Reading;
    bool rejecting = false;  // over max_connections: a 503, then closed
    HttpParser parser;
    std::string in;  // received, not yet parsed: in[in_used, size)
    size_t in_used = 0;
    std::string out;  // the loop's own bytes (100 Continue, errors): out[out_sent, size)
    size_t out_sent = 0;
    std::shared_ptr<ExchangeState> exchange;  // the response in flight
    bool continue_sent = false;
    bool blocked = false;  // a send hit EAGAIN: wait for EPOLLOUT
    bool dead = false;     // closed at the end of this loop turn
    uint32_t events = 0;   // current epoll interest
    bool request_started = false;
    Clock::time_point request_start;
    Clock::time_point last_activity;  // last byte in or out
    Clock::time_point linger_until;
};

}  // namespace detail

// The I/O thread's state; only that thread touches it once the constructor returns,
// except stop_fd (written by stop()) and thread/failure (read after join).
struct HttpServer::Impl {
    using Clock = detail::Clock;
    using Connection = detail::Connection;
    using Flush = detail::Flush;

    ServerOptions options;
    Handler handler;
    std::shared_ptr<const ErrorResponder> error_response;
    int listen_fd = -1;
    int epoll_fd = -1;
    int stop_fd = -1;
    uint16_t port = 0;
    std::shared_ptr<detail::WakeQueue> wake;
    std::thread thread;
    std::string failure;  // written by the loop, read after join

    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;
    uint64_t next_id = detail::kFirstConnectionId;
    size_t active = 0;
    size_t rejecting = 0;
    bool stopping = false;
    Clock::time_point grace_end;
    bool accept_paused = false;
    Clock::time_point accept_resume;
    std::string read_buffer = std::string(detail::kReadChunk, '\0');

    ~Impl();

    void open();
    void run_guarded() noexcept;
    void run();
    void close_all() noexcept;
    int next_timeout_ms(Clock::time_point now) const;
    void expire(Clock::time_point now);
    void sweep();
    void accept_all();
    void begin_shutdown();
    void on_wake();
    void on_event(Connection& c, uint32_t events);
    void read_input(Connection& c);
    void drive(Connection& c);
    void parse_step(Connection& c);
    void dispatch(Connection& c);
    void queue_error(Connection& c, int status, std::string_view message);
    bool send_own(Connection& c);
    Flush flush_exchange(Connection& c);
    void update_interest(Connection& c);
    void drop(Connection& c);
    void epoll_add(int fd, uint64_t key, uint32_t events);
};

}  // namespace loom::server

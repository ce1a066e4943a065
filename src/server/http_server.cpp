// HttpServer: the epoll loop (see http_server.h). Everything here runs on the I/O
// thread except the constructor, stop() and wait(). This file has the loop itself:
// listening socket, accept, timers, shutdown; connection.cpp moves each connection
// through its phases. Timers are a scan over the connections each loop turn: the count
// is bounded by max_connections, so a timer wheel would not pay for itself.
#include "server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "core/error.h"
#include "server/listen_socket.h"
#include "server/server_impl.h"

namespace loom::server {

using namespace detail;

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

HttpResponse plain_error_response(int status, std::string_view message) {
    HttpResponse response{status, {}, std::string(message) + "\n"};
    response.headers.add("Content-Type", "text/plain; charset=utf-8");
    return response;
}

HttpServer::Impl::~Impl() {
    for (int fd : {listen_fd, epoll_fd, stop_fd}) {
        if (fd >= 0) ::close(fd);
    }
}

void HttpServer::Impl::epoll_add(int fd, uint64_t key, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        throw Error(ErrorCode::Io, "HTTP server: " + errno_text("epoll_ctl"));
    }
}

void HttpServer::Impl::open() {
    ListenSocket socket = open_listen_socket(options.host, options.port);
    listen_fd = socket.fd;
    port = socket.port;
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) throw Error(ErrorCode::Io, "HTTP server: " + errno_text("epoll_create1"));
    stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_fd < 0) throw Error(ErrorCode::Io, "HTTP server: " + errno_text("eventfd"));
    wake = std::make_shared<detail::WakeQueue>();
    epoll_add(listen_fd, kListenKey, EPOLLIN);
    epoll_add(stop_fd, kStopKey, EPOLLIN);
    epoll_add(wake->fd(), kWakeKey, EPOLLIN);
}

void HttpServer::Impl::run_guarded() noexcept {
    try {
        run();
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown exception in the I/O loop";
    }
    close_all();
}

void HttpServer::Impl::run() {
    epoll_event events[64];
    while (!(stopping && connections.empty())) {
        int n = ::epoll_wait(epoll_fd, events, 64, next_timeout_ms(Clock::now()));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCode::Io, "HTTP server: " + errno_text("epoll_wait"));
        }
        for (int i = 0; i < n; ++i) {
            uint64_t key = events[i].data.u64;
            if (key == kListenKey) {
                accept_all();
            } else if (key == kStopKey) {
                begin_shutdown();
            } else if (key == kWakeKey) {
                on_wake();
            } else if (auto it = connections.find(key);
                       it != connections.end() && !it->second->dead) {
                on_event(*it->second, events[i].events);
            }
        }
        expire(Clock::now());
        sweep();
    }
}

void HttpServer::Impl::close_all() noexcept {
    for (auto& [id, c] : connections) {
        if (c->exchange) detail::cancel_exchange(*c->exchange);
        ::close(c->fd);
    }
    connections.clear();
    if (listen_fd >= 0) ::close(listen_fd);
    listen_fd = -1;
}

int HttpServer::Impl::next_timeout_ms(Clock::time_point now) const {
    auto earliest = Clock::time_point::max();
    auto consider = [&](Clock::time_point t) { earliest = std::min(earliest, t); };
    if (accept_paused) consider(accept_resume);
    for (const auto& [id, c] : connections) {
        switch (c->phase) {
            case Phase::Reading:
                consider(c->last_activity + options.idle_timeout);
                if (c->request_started) consider(c->request_start + options.request_timeout);
                break;
            case Phase::Responding:
                if (c->blocked) consider(c->last_activity + options.idle_timeout);
                if (stopping) consider(grace_end);
                break;
            case Phase::Closing:
                consider(c->last_activity + options.idle_timeout);
                if (stopping) consider(grace_end);
                break;
            case Phase::Lingering: consider(c->linger_until); break;
        }
    }
    if (earliest == Clock::time_point::max()) return -1;
    if (earliest <= now) return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(earliest - now).count();
    return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

void HttpServer::Impl::expire(Clock::time_point now) {
    if (accept_paused && now >= accept_resume && !stopping) {
        accept_paused = false;
        epoll_add(listen_fd, kListenKey, EPOLLIN);
    }
    for (auto& [id, cp] : connections) {
        Connection& c = *cp;
        if (c.dead) continue;
        switch (c.phase) {
            case Phase::Reading:
                if (c.request_started && now >= c.request_start + options.request_timeout) {
                    queue_error(c, 408, "the request did not arrive within the request timeout");
                    drive(c);
                } else if (now >= c.last_activity + options.idle_timeout) {
                    if (c.parser.in_progress()) {
                        queue_error(c, 408, "the request stalled past the idle timeout");
                        drive(c);
                    } else {
                        drop(c);  // an idle keep-alive connection: close quietly
                    }
                }
                break;
            case Phase::Responding:
                // A client that stops reading, or a stream still running when the grace
                // period ends: the response is cut off and its handler told.
                if ((c.blocked && now >= c.last_activity + options.idle_timeout) ||
                    (stopping && now >= grace_end)) {
                    drop(c);
                }
                break;
            case Phase::Closing:
                if (now >= c.last_activity + options.idle_timeout ||
                    (stopping && now >= grace_end)) {
                    drop(c);
                }
                break;
            case Phase::Lingering:
                if (now >= c.linger_until) drop(c);
                break;
        }
    }
}

void HttpServer::Impl::sweep() {
    for (auto it = connections.begin(); it != connections.end();) {
        Connection& c = *it->second;
        if (!c.dead) {
            ++it;
            continue;
        }
        ::close(c.fd);  // also removes it from the epoll set
        --(c.rejecting ? rejecting : active);
        it = connections.erase(it);
    }
}

void HttpServer::Impl::accept_all() {
    for (;;) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
                accept_paused = true;
                accept_resume = Clock::now() + kAcceptPause;
            }
            return;  // EAGAIN: all taken
        }
        int one = 1;  // a token event goes out when queued, not when Nagle decides
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bool over = active >= options.max_connections;
        if (over && rejecting >= kMaxRejecting) {
            ::close(fd);
            continue;
        }
        auto owned = std::make_unique<Connection>(next_id++, fd, options.limits);
        Connection& c = *owned;
        c.last_activity = Clock::now();
        c.events = EPOLLIN | EPOLLRDHUP;
        epoll_event ev{};
        ev.events = c.events;
        ev.data.u64 = c.id;
        if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ::close(fd);
            continue;
        }
        connections.emplace(c.id, std::move(owned));
        if (!over) {
            ++active;
            continue;
        }
        c.rejecting = true;
        ++rejecting;
        queue_error(c, 503,
                    "the server is at its limit of " + std::to_string(options.max_connections) +
                        " connections; retry later");
        drive(c);
    }
}

void HttpServer::Impl::begin_shutdown() {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(stop_fd, &count, sizeof count);
    if (stopping) return;
    stopping = true;
    grace_end = Clock::now() + options.shutdown_grace;
    if (!accept_paused) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    ::close(listen_fd);
    listen_fd = -1;
    for (auto& [id, c] : connections) {
        if (c->phase == Phase::Reading) drop(*c);  // no response owed
        if (c->phase == Phase::Lingering) c->linger_until = std::min(c->linger_until, grace_end);
    }
}

void HttpServer::Impl::on_wake() {
    for (auto& state : wake->take()) {
        {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->queued = false;
        }
        auto it = connections.find(state->connection_id);
        if (it == connections.end()) continue;
        Connection& c = *it->second;
        if (!c.dead && c.exchange == state) drive(c);
    }
}

HttpServer::HttpServer(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
    const char* bad = nullptr;
    if (options.max_connections == 0)
        bad = "max_connections is 0 (every connection would get a 503)";
    if (options.max_output_bytes == 0)
        bad = "max_output_bytes is 0 (every stream write would be Full)";
    if (options.idle_timeout.count() <= 0) bad = "idle_timeout is not positive";
    if (options.request_timeout.count() <= 0) bad = "request_timeout is not positive";
    if (options.shutdown_grace.count() < 0) bad = "shutdown_grace is negative";
    // Deadlines are steady_clock time points: a day keeps the sums far from overflow.
    constexpr std::chrono::milliseconds kDay = std::chrono::hours(24);
    if (options.idle_timeout > kDay || options.request_timeout > kDay ||
        options.shutdown_grace > kDay) {
        bad = "a timeout is over 24 hours";
    }
    if (!handler) bad = "no handler";
    if (bad != nullptr)
        throw Error(ErrorCode::InvalidArgument, std::string("HTTP server options: ") + bad);
    impl_->options = std::move(options);
    impl_->handler = std::move(handler);
    impl_->error_response = std::make_shared<const ErrorResponder>(
        impl_->options.error_response ? impl_->options.error_response : plain_error_response);
    impl_->open();
    try {
        impl_->thread = std::thread([impl = impl_.get()] { impl->run_guarded(); });
    } catch (const std::system_error& e) {
        throw Error(ErrorCode::Io,
                    std::string("HTTP server: cannot start the I/O thread: ") + e.what());
    }
}

HttpServer::~HttpServer() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t HttpServer::port() const noexcept { return impl_->port; }

void HttpServer::stop() noexcept {
    int saved = errno;  // a signal handler must leave errno as it found it
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(impl_->stop_fd, &one, sizeof one);
    errno = saved;
}

void HttpServer::wait() {
    if (impl_->thread.joinable()) {
        if (impl_->thread.get_id() == std::this_thread::get_id()) {
            throw Error(ErrorCode::InvalidArgument,
                        "HttpServer::wait() called from the handler (the I/O thread)");
        }
        impl_->thread.join();
    }
    if (!impl_->failure.empty()) throw Error(ErrorCode::Io, "HTTP server: " + impl_->failure);
}

}  // namespace loom::server

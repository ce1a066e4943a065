// One connection's phases on the I/O thread (see server_impl.h): reading and parsing,
// dispatching a complete request to the handler, sending the loop's own bytes and the
// exchange's, and deciding what follows a response.
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "server/server_impl.h"

namespace loom::server {

using namespace detail;

void HttpServer::Impl::on_event(Connection& c, uint32_t events) {
    // A peer that closed or reset is gone: its response, if any, is cancelled.
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        drop(c);
        return;
    }
    if (events & EPOLLIN) {
        read_input(c);
        if (c.dead) return;
    }
    drive(c);
}

void HttpServer::Impl::read_input(Connection& c) {
    // A few reads per wake-up, so one fast sender cannot starve the other connections;
    // level-triggered epoll reports the rest next turn.
    for (int round = 0; round < 4; ++round) {
        if (c.phase == Phase::Responding && c.in.size() - c.in_used >= kReadAheadBytes) return;
        ssize_t n = ::recv(c.fd, read_buffer.data(), read_buffer.size(), 0);
        if (n > 0) {
            c.last_activity = Clock::now();
            if (c.phase == Phase::Reading || c.phase == Phase::Responding) {
                c.in.append(read_buffer.data(), static_cast<size_t>(n));
            }  // Closing, Lingering: the rest of a refused request, discarded
            if (static_cast<size_t>(n) < read_buffer.size()) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        drop(c);  // 0: the peer closed; <0: reset or another error
        return;
    }
}

void HttpServer::Impl::drive(Connection& c) {
    c.blocked = false;  // recomputed by the sends below
    for (;;) {
        if (c.dead || !send_own(c)) break;
        if (c.phase == Phase::Reading) {
            if (c.in_used == c.in.size()) break;
            parse_step(c);
            continue;
        }
        if (c.phase == Phase::Responding) {
            Flush result = flush_exchange(c);
            if (result == Flush::Waiting || result == Flush::Blocked) break;
            if (result == Flush::Failed) {
                drop(c);
                break;
            }
            bool keep = result == Flush::Finished && c.exchange->framing.keep_alive && !stopping;
            c.exchange.reset();  // complete: no cancel from here on
            if (result == Flush::Aborted) {
                drop(c);
                break;
            }
            c.last_activity = Clock::now();
            c.phase = keep ? Phase::Reading : Phase::Closing;
            continue;
        }
        if (c.phase == Phase::Closing) {
            // Lingering guards the response against a reset from request bytes still on
            // their way. When stopping with nothing unread, close at once instead: a
            // keep-alive client may hold its end open and would delay the exit.
            int unread = 0;
            if (stopping && ::ioctl(c.fd, FIONREAD, &unread) == 0 && unread == 0) {
                drop(c);
                break;
            }
            ::shutdown(c.fd, SHUT_WR);
            c.phase = Phase::Lingering;
            c.linger_until = Clock::now() + kLingerTime;
            if (stopping) c.linger_until = std::min(c.linger_until, grace_end);
        }
        break;  // Lingering: only reads, until the client closes
    }
    update_interest(c);
}

void HttpServer::Impl::parse_step(Connection& c) {
    ParseResult r = c.parser.feed(std::string_view(c.in).substr(c.in_used));
    c.in_used += r.consumed;
    if (c.in_used == c.in.size()) {
        c.in.clear();
        c.in_used = 0;
    } else if (c.in_used * 2 >= c.in.size()) {
        // Pipelined requests left: drop the parsed front. Only when it is at least half,
        // so each byte moves O(1) times however many small requests the buffer holds.
        c.in.erase(0, c.in_used);
        c.in_used = 0;
    }
    if (!c.request_started && c.parser.in_progress()) {
        c.request_started = true;
        c.request_start = Clock::now();
    }
    if (r.status == ParseStatus::Error) {
        queue_error(c, c.parser.error().status, c.parser.error().message);
    } else if (r.status == ParseStatus::Complete) {
        dispatch(c);
    } else if (c.parser.wants_continue() && !c.continue_sent) {
        c.out += kContinue;  // RFC 9110 §10.1.1: the client waits for it before the body
        c.continue_sent = true;
    }
}

void HttpServer::Impl::dispatch(Connection& c) {
    HttpRequest request = c.parser.take_request();
    c.continue_sent = false;
    c.request_started = false;
    auto state = std::make_shared<ExchangeState>();
    state->connection_id = c.id;
    state->framing.keep_alive = request.keep_alive && !stopping;
    state->framing.head = request.method == "HEAD";
    state->framing.http10 = request.version == HttpVersion::Http10;
    state->framing.date = http_date(std::time(nullptr));
    state->max_output_bytes = options.max_output_bytes;
    state->wake = wake;
    state->error_response = error_response;
    c.exchange = state;
    c.phase = Phase::Responding;

    auto responder = std::make_shared<Responder>(state);
    std::string failed;
    try {
        handler(std::move(request), responder);
    } catch (const std::exception& e) {
        failed = e.what();
    } catch (...) {
        failed = "unknown exception";
    }
    if (!failed.empty() &&
        !responder->respond_error(500, "the request handler failed: " + failed)) {
        responder->abort();  // a stream was already begun: cut it off
    }
}

void HttpServer::Impl::queue_error(Connection& c, int status, std::string_view message) {
    ResponseFraming framing;
    framing.keep_alive = false;  // after a framing error the next request cannot be found
    framing.date = http_date(std::time(nullptr));
    c.out += detail::error_response_bytes(*error_response, status, message, framing);
    c.phase = Phase::Closing;
    c.in.clear();
    c.in_used = 0;
}

bool HttpServer::Impl::send_own(Connection& c) {
    while (c.out_sent < c.out.size()) {
        ssize_t n =
            ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
        if (n > 0) {
            c.out_sent += static_cast<size_t>(n);
            c.last_activity = Clock::now();
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c.blocked = true;
            return false;
        } else {
            drop(c);
            return false;
        }
    }
    c.out.clear();
    c.out_sent = 0;
    return true;
}

Flush HttpServer::Impl::flush_exchange(Connection& c) {
    ExchangeState& s = *c.exchange;
    std::unique_lock<std::mutex> lock(s.mutex);
    size_t before = s.pending();
    while (s.pending() > 0) {
        ssize_t n = ::send(c.fd, s.out.data() + s.out_sent, s.pending(), MSG_NOSIGNAL);
        if (n > 0) {
            s.out_sent += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return Flush::Failed;  // EPIPE, ECONNRESET: drop() cancels the exchange
        }
    }
    bool progressed = s.pending() < before;
    if (s.out_sent == s.out.size()) {
        s.out.clear();
        s.out_sent = 0;
    } else if (s.out_sent >= kReadChunk && s.out_sent * 2 >= s.out.size()) {
        s.out.erase(0, s.out_sent);  // amortized: each byte moves at most once more
        s.out_sent = 0;
    }
    bool below_bound = s.pending() < s.max_output_bytes;
    Flush result = Flush::Waiting;
    if (s.pending() > 0) {
        result = Flush::Blocked;
    } else if (s.phase == ExchangePhase::Aborted) {
        result = Flush::Aborted;
    } else if (s.phase == ExchangePhase::Done) {
        result = s.close_after ? Flush::FinishedClose : Flush::Finished;
    }
    lock.unlock();
    if (progressed) {
        c.last_activity = Clock::now();
        if (below_bound) s.writable.notify_all();
    }
    if (result == Flush::Blocked) c.blocked = true;
    return result;
}

void HttpServer::Impl::update_interest(Connection& c) {
    if (c.dead) return;
    uint32_t want = EPOLLRDHUP;
    if (c.phase != Phase::Responding || c.in.size() - c.in_used < kReadAheadBytes) want |= EPOLLIN;
    if (c.blocked) want |= EPOLLOUT;
    if (want == c.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = c.id;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        drop(c);
        return;
    }
    c.events = want;
}

void HttpServer::Impl::drop(Connection& c) {
    if (c.dead) return;
    c.dead = true;
    if (c.exchange) detail::cancel_exchange(*c.exchange);
    c.exchange.reset();
}

}  // namespace loom::server

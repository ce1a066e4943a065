// WakeQueue and the exchange helpers shared by Responder and the I/O thread.
#include "server/exchange.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace loom::server::detail {

WakeQueue::WakeQueue() {
    fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) {
        throw Error(ErrorCode::Io, std::string("HTTP server: eventfd: ") + std::strerror(errno));
    }
}

WakeQueue::~WakeQueue() { ::close(fd_); }

void WakeQueue::push(std::shared_ptr<ExchangeState> exchange) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(exchange));
    }
    uint64_t one = 1;
    // Cannot fail short of the counter saturating at 2^64 - 2 unread wakes.
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
}

std::vector<std::shared_ptr<ExchangeState>> WakeQueue::take() {
    // Reset the counter before taking the list: a push in between then leaves the fd
    // readable, so it is never lost (the other order could drop its wake-up).
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);
    std::vector<std::shared_ptr<ExchangeState>> taken;
    std::lock_guard<std::mutex> lock(mutex_);
    taken.swap(ready_);
    return taken;
}

std::string error_response_bytes(const ErrorResponder& make, int status, std::string_view message,
                                 const ResponseFraming& framing) noexcept {
    try {
        try {
            return serialize_response(make(status, message), framing);
        } catch (...) {
            HttpResponse plain{status, {}, std::string(message) + "\n"};
            plain.headers.add("Content-Type", "text/plain; charset=utf-8");
            return serialize_response(plain, framing);
        }
    } catch (...) {
        return "HTTP/1.1 500 Internal Server Error\r\n"
               "Content-Length: 0\r\nConnection: close\r\n\r\n";
    }
}

void ExchangeState::notify_io(std::unique_lock<std::mutex>& lock) {
    bool push = !queued;
    queued = true;
    lock.unlock();
    if (push) wake->push(shared_from_this());
}

void cancel_exchange(ExchangeState& exchange) {
    std::function<void()> callback;
    {
        std::lock_guard<std::mutex> lock(exchange.mutex);
        if (exchange.closed) return;
        exchange.closed = true;
        exchange.cancelled.store(true, std::memory_order_release);
        callback = std::move(exchange.on_cancel);
        exchange.on_cancel = nullptr;
    }
    exchange.writable.notify_all();
    if (callback) {
        try {
            callback();
        } catch (...) {
            // The exchange is cancelled either way, and the I/O thread serves every other
            // connection: a throwing callback must not take the server down.
        }
    }
}

}  // namespace loom::server::detail

// ThreadPool: chunked parallel ranges with one barrier per job.
#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace loom {
namespace {

// How long a thread spins (yielding) for the next job or for the end of the current one
// before it sleeps. Decode steps issue jobs back to back, well within this.
constexpr auto kSpin = std::chrono::microseconds(200);

template <typename Pred>
bool spin_until(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (unsigned i = 0;; ++i) {
        if (pred()) return true;
        if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
}

}  // namespace

unsigned ThreadPool::hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool::ThreadPool(unsigned n_threads) : n_threads_(n_threads == 0 ? hardware_threads() : n_threads) {
    workers_.reserve(n_threads_ - 1);
    for (unsigned t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& w : workers_) w.join();
}

void ThreadPool::work(unsigned thread) {
    for (;;) {
        const size_t begin = next_.fetch_add(grain_, std::memory_order_relaxed);
        if (begin >= n_) return;
        (*fn_)(begin, std::min(n_, begin + grain_), thread);
    }
}

void ThreadPool::worker_loop(unsigned thread) {
    uint64_t seen = 0;
    for (;;) {
        auto job_ready = [&] { return generation_.load(std::memory_order_acquire) != seen; };
        if (!spin_until(job_ready)) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || job_ready(); });
            if (stop_ && !job_ready()) return;
        }
        seen = generation_.load(std::memory_order_acquire);
        work(thread);
        if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(mutex_);
            done_cv_.notify_one();
        }
    }
}

void ThreadPool::for_range(size_t n, size_t grain, const RangeFn& fn) {
    grain = std::max<size_t>(grain, 1);
    if (n == 0) return;
    if (workers_.empty() || n <= grain) {
        fn(0, n, 0);
        return;
    }
    fn_ = &fn;
    n_ = n;
    grain_ = grain;
    next_.store(0, std::memory_order_relaxed);
    busy_.store(static_cast<unsigned>(workers_.size()), std::memory_order_relaxed);
    {
        std::lock_guard lock(mutex_);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    work(0);
    auto all_done = [&] { return busy_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(all_done)) {
        std::unique_lock lock(mutex_);
        done_cv_.wait(lock, all_done);
    }
    fn_ = nullptr;
}

}  // namespace loom

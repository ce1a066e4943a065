// ThreadPool: the one way Loom runs work on several threads (STYLE.md: threads only
// through the core thread pool). A pool of n threads is the caller plus n - 1 workers;
// for_range splits [0, n) into chunks that all threads take from a shared counter, and
// returns when every chunk is done, so a forward pass is a sequence of parallel steps
// with one barrier each.
//
//   ThreadPool pool(4);
//   pool.for_range(n_rows, 16, [&](size_t begin, size_t end, unsigned thread) { ... });
//
// Between jobs the workers spin briefly (a decode step issues its next job within
// microseconds) and then sleep on a condition variable: an idle pool burns no CPU.
// Jobs must not throw: an exception escaping a worker ends the process (std::terminate),
// so callers validate before they split work. for_range is not reentrant and one thread
// calls it at a time (the owner of the pool).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace loom {

class ThreadPool {
public:
    // fn(begin, end, thread): handles [begin, end); thread is in [0, size()), fixed per
    // thread during one job (index of per-thread scratch).
    using RangeFn = std::function<void(size_t begin, size_t end, unsigned thread)>;

    // n_threads 0: the machine's hardware threads.
    explicit ThreadPool(unsigned n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    unsigned size() const { return n_threads_; }

    // Runs fn over [0, n) in chunks of `grain` (at least 1) on all threads; returns when
    // all are done. Small jobs (one chunk) run on the caller alone.
    void for_range(size_t n, size_t grain, const RangeFn& fn);

    // The hardware thread count (at least 1).
    static unsigned hardware_threads();

private:
    void worker_loop(unsigned thread);
    void work(unsigned thread);

    unsigned n_threads_;
    std::vector<std::thread> workers_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_cv_;
    bool stop_ = false;

    // The current job; written by the caller before the generation is bumped.
    const RangeFn* fn_ = nullptr;
    size_t n_ = 0;
    size_t grain_ = 1;
    std::atomic<size_t> next_{0};
    std::atomic<uint64_t> generation_{0};
    std::atomic<unsigned> busy_{0};  // workers still inside the current job
};

}  // namespace loom

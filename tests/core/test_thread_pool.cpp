// ThreadPool: every index handled exactly once, per-thread indices in range, the caller
// takes part, jobs back to back (the decode pattern) and after the workers have slept.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <vector>

namespace loom {
namespace {

void expect_each_once(ThreadPool& pool, size_t n, size_t grain) {
    std::vector<std::atomic<int>> hits(n);
    std::atomic<unsigned> bad_thread{0};
    pool.for_range(n, grain, [&](size_t begin, size_t end, unsigned thread) {
        if (thread >= pool.size()) bad_thread.fetch_add(1);
        for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    });
    EXPECT_EQ(bad_thread.load(), 0u);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
}

TEST(ThreadPool, EveryIndexOnceForManySizesAndGrains) {
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
        ThreadPool pool(threads);
        EXPECT_EQ(pool.size(), threads);
        for (size_t n : {0, 1, 2, 7, 64, 1000, 4097}) {
            for (size_t grain : {0, 1, 3, 16, 5000}) expect_each_once(pool, n, grain);
        }
    }
}

TEST(ThreadPool, ZeroMeansHardwareThreads) {
    ThreadPool pool(0);
    EXPECT_EQ(pool.size(), ThreadPool::hardware_threads());
    EXPECT_GE(pool.size(), 1u);
}

TEST(ThreadPool, ManyJobsBackToBack) {
    ThreadPool pool(4);
    std::atomic<uint64_t> sum{0};
    for (int job = 0; job < 2000; ++job) {
        pool.for_range(37, 2, [&](size_t begin, size_t end, unsigned) {
            for (size_t i = begin; i < end; ++i) sum.fetch_add(i);
        });
    }
    EXPECT_EQ(sum.load(), 2000u * (36u * 37u / 2u));
}

TEST(ThreadPool, WorksAfterWorkersSleep) {
    ThreadPool pool(3);
    expect_each_once(pool, 100, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the spin: workers sleep
    expect_each_once(pool, 100, 1);
}

TEST(ThreadPool, SeveralThreadsTakePart) {
    ThreadPool pool(2);
    std::set<unsigned> seen;
    std::mutex m;
    // Chunks that take a while, so the worker surely picks some up.
    pool.for_range(64, 1, [&](size_t, size_t, unsigned thread) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::lock_guard lock(m);
        seen.insert(thread);
    });
    EXPECT_EQ(seen.size(), 2u);
}

}  // namespace
}  // namespace loom

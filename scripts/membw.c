// membw: the machine's memory read bandwidth, as the ceiling that token generation meets.
// Generation streams every weight once per token, so the number that bounds it is how fast
// the cores can *read* DRAM, with the thread count the engine runs. numpy would measure one
// thread only (its reductions are single-threaded), hence this small C probe.
//
// Method: one buffer far larger than the last-level cache (default 1 GiB), written once so
// every page is backed, then split into equal contiguous slices, one per thread. Each pass,
// all threads start together at a barrier and sum their slice as 64-bit words (the compiler
// vectorizes the loop at -O3 -march=native into full-width loads; the sum is kept so the
// loads cannot be dropped). The pass time is from the earliest thread's start to the latest
// thread's finish, both read by the workers themselves: a timing thread outside would have
// to share the cores with them and wake late. One untimed pass comes first (TLB and
// frequency warm-up). The best pass is reported (the ceiling: a slower pass only means other
// work got in the way), and every pass too.
// Pages: "4k" leaves the buffer on ordinary pages, as a mapped model file is (the page cache
// serves 4 KiB pages); "huge" aligns it to 2 MiB and asks for transparent huge pages
// (madvise), which cuts TLB misses: on the 2-core AMD EPYC VM this was written on, huge pages
// read 10-30% faster, so they give the hardware ceiling, and 4k what a reader of a mapped file
// can expect.
// The output says how many bytes the kernel really backed with huge pages.
// Not here: write or copy bandwidth (generation hardly writes), latency, NUMA placement.
//
// Build and run (scripts/bench-vs-llamacpp does this itself):
//   cc -O3 -march=native -pthread -o membw scripts/membw.c
//   ./membw THREADS [MIB] [PASSES] [4k|huge]
// Prints one JSON object: {"threads":T,"pages":"4k"|"huge","huge_bytes":H,"bytes":B,
// "passes":[GB/s...],"read_gbps":best}.
// Exit status: 0 success, 1 out of memory or thread error, 2 bad usage.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { kMaxPasses = 1000 };

typedef struct {
    const uint64_t* begin;  // this thread's slice of the buffer
    size_t n_words;         // its length in 64-bit words
    int passes;             // timed passes, after one untimed
    pthread_barrier_t* start;
    double t_start[kMaxPasses];  // seconds, CLOCK_MONOTONIC, per timed pass
    double t_end[kMaxPasses];
    uint64_t sum;  // kept so the reads are not optimized away
} Worker;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Sums the slice with four independent accumulators, so the adds do not serialize on one
// register and the loop stays bound by the loads.
static uint64_t sum_words(const uint64_t* p, size_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    for (; i < n; ++i) s0 += p[i];
    return s0 + s1 + s2 + s3;
}

static void* worker_main(void* arg) {
    Worker* w = (Worker*)arg;
    for (int pass = -1; pass < w->passes; ++pass) {
        pthread_barrier_wait(w->start);
        const double t0 = now_seconds();
        w->sum += sum_words(w->begin, w->n_words);
        const double t1 = now_seconds();
        if (pass >= 0) {
            w->t_start[pass] = t0;
            w->t_end[pass] = t1;
        }
    }
    return NULL;
}

// Bytes of this process's anonymous memory on transparent huge pages (AnonHugePages of
// /proc/self/smaps_rollup, in kB there); 0 where the file is missing.
static unsigned long long anon_huge_bytes(void) {
    FILE* f = fopen("/proc/self/smaps_rollup", "r");
    if (f == NULL) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) break;
    }
    fclose(f);
    return kb * 1024;
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: membw THREADS [MIB (default 1024)] [PASSES (default 10)] "
                        "[4k|huge (default 4k)]\n");
        return 2;
    }
    const long threads = strtol(argv[1], NULL, 10);
    const long mib = argc > 2 ? strtol(argv[2], NULL, 10) : 1024;
    const long passes = argc > 3 ? strtol(argv[3], NULL, 10) : 10;
    if (threads < 1 || threads > 1024 || mib < 1 || mib > (1L << 20) || passes < 1 ||
        passes > kMaxPasses) {
        fprintf(stderr, "membw: THREADS in [1, 1024], MIB in [1, 2^20], PASSES in [1, 1000]\n");
        return 2;
    }
    const char* pages = argc > 4 ? argv[4] : "4k";
    const int huge = strcmp(pages, "huge") == 0;
    if (!huge && strcmp(pages, "4k") != 0) {
        fprintf(stderr, "membw: pages \"%s\": expected 4k or huge\n", pages);
        return 2;
    }
    const size_t n_words = (size_t)mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t* buffer = NULL;
    const size_t alignment = huge ? (size_t)2 << 20 : 4096;
    if (posix_memalign((void**)&buffer, alignment, n_words * sizeof(uint64_t)) != 0) {
        fprintf(stderr, "membw: cannot allocate %ld MiB\n", mib);
        return 1;
    }
    // MADV_NOHUGEPAGE for 4k: under THP "always" the kernel would otherwise pick huge pages.
    // Advice is a hint; a kernel without THP refuses it and the buffer stays on 4k pages,
    // which huge_bytes then shows.
    madvise(buffer, n_words * sizeof(uint64_t), huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    // Distinct values on every page: no page stays the shared zero page.
    for (size_t i = 0; i < n_words; ++i) buffer[i] = i;

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    Worker* workers = calloc((size_t)threads, sizeof(Worker));
    pthread_t* ids = calloc((size_t)threads, sizeof(pthread_t));
    if (workers == NULL || ids == NULL) {
        fprintf(stderr, "membw: out of memory\n");
        return 1;
    }
    const size_t per_thread = n_words / (size_t)threads;
    for (long t = 0; t < threads; ++t) {
        workers[t] = (Worker){.begin = buffer + (size_t)t * per_thread,
                              .n_words = per_thread,
                              .passes = (int)passes,
                              .start = &start};
        if (pthread_create(&ids[t], NULL, worker_main, &workers[t]) != 0) {
            fprintf(stderr, "membw: cannot start thread %ld\n", t);
            return 1;
        }
    }
    uint64_t sum = 0;
    for (long t = 0; t < threads; ++t) {
        pthread_join(ids[t], NULL);
        sum += workers[t].sum;
    }
    const double bytes = (double)(per_thread * (size_t)threads * sizeof(uint64_t));
    double best = 0.0;
    printf("{\"threads\":%ld,\"pages\":\"%s\",\"huge_bytes\":%llu,\"bytes\":%.0f,\"passes\":[",
           threads, pages, anon_huge_bytes(), bytes);
    for (long pass = 0; pass < passes; ++pass) {
        double t0 = workers[0].t_start[pass], t1 = workers[0].t_end[pass];
        for (long t = 1; t < threads; ++t) {
            if (workers[t].t_start[pass] < t0) t0 = workers[t].t_start[pass];
            if (workers[t].t_end[pass] > t1) t1 = workers[t].t_end[pass];
        }
        const double gbps = bytes / (t1 - t0) / 1e9;
        if (gbps > best) best = gbps;
        printf("%s%.3f", pass ? "," : "", gbps);
    }
    // The checksum goes to stderr: printing it makes the sums observable, and keeps stdout JSON.
    fprintf(stderr, "membw: checksum %llu\n", (unsigned long long)sum);
    printf("],\"read_gbps\":%.3f}\n", best);
    free(ids);
    free(workers);
    free(buffer);
    return 0;
}

// `loom bench [-m MODEL] [-p 512] [-n 128] [-t N[,N...]] [-b N[,N...]] [-r 5]
// [--kernels LEVEL[,LEVEL...] | --reference-kernels] [--no-warmup] [--json | -o md|json|csv]`:
// prompt-processing (ppN) and generation (tgN) speed in tokens per second, measured
// separately with repetitions, in the manner of llama.cpp's llama-bench (same test names,
// same token choice, same table; a list flag runs each of its values). Results go to
// stdout (a markdown table, a JSON array or CSV); the machine and the peak RSS go to
// stderr. The table shows the median ± the sample standard deviation, and min and max;
// JSON also carries llama-bench's mean (avg_ts) and every sample.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_bench(CLI::App& app);

// ---- reporting (bench_report.cpp) -------------------------------------------------------

// What the report says about the machine and the model, once per run.
struct BenchInfo {
    std::string cpu_info;   // /proc/cpuinfo "model name", else "unknown"
    unsigned n_cpu = 0;     // hardware threads
    std::string model_filename;  // as given (-m) or the default model path
    std::string model_type;      // "gemma3 Q4_K_M": architecture and file type
    uint64_t model_size = 0;     // bytes of tensor data
    uint64_t model_n_params = 0; // elements of all tensors
};

// One measured test: a (test, threads, batch) combination and its timed repetitions.
struct BenchResult {
    std::string test;        // "pp512" or "tg128"
    uint32_t n_prompt = 0;   // tokens of a pp test (0 in a tg test)
    uint32_t n_gen = 0;      // tokens of a tg test (0 in a pp test)
    unsigned n_threads = 0;  // as the context resolved it
    uint32_t n_batch = 0;
    std::string kernels;     // kernel level: "avx2" (llama-bench's backend column)
    std::string test_time;   // ISO 8601 UTC, when the test started
    std::vector<uint64_t> samples_ns;  // wall time of each repetition, warm-up excluded
};

// Per-result statistics over the repetitions, in tokens per second (ts) and nanoseconds.
struct BenchStats {
    std::vector<double> samples_ts;
    double median_ts = 0, min_ts = 0, max_ts = 0, avg_ts = 0, stddev_ts = 0;
    double avg_ns = 0, stddev_ns = 0;
};

BenchStats bench_stats(const BenchResult& result);

enum class BenchFormat { Markdown, Json, Csv };

// Markdown is written row by row as tests finish; show_batch adds an n_batch column
// (llama-bench shows it only when it is not the default).
void write_bench_md_header(std::ostream& out, bool show_batch);
void write_bench_md_row(std::ostream& out, const BenchInfo& info, const BenchResult& result,
                        bool show_batch);
// JSON and CSV hold every result; written once at the end.
void write_bench_json(std::ostream& out, const BenchInfo& info, const std::vector<BenchResult>& results);
void write_bench_csv(std::ostream& out, const BenchInfo& info, const std::vector<BenchResult>& results);

}  // namespace loom::cli

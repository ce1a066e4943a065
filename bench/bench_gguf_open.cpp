// Time to open (mmap) and fully validate a GGUF file, page cache warm: the parsing cost
// alone. The cold-cache cost is page-in of the metadata pages; see docs/BENCHMARKS.md.
// Run: build/bench/bench_gguf_open [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <string>

#include "gguf/gguf_file.h"

namespace {

void open_and_validate(benchmark::State& state, const std::string& path) {
    uint64_t bytes = 0;
    for (auto _ : state) {
        auto file = loom::gguf::GgufFile::open(path);
        bytes = file.bytes().size();
        benchmark::DoNotOptimize(file.tensors().data());
    }
    state.counters["file_MiB"] = static_cast<double>(bytes) / (1 << 20);
}

void BM_OpenStories260K(benchmark::State& state) {
    open_and_validate(state, std::string(LOOM_FIXTURES_DIR) + "/stories260K.gguf");
}
BENCHMARK(BM_OpenStories260K)->Unit(benchmark::kMicrosecond);

void BM_OpenGemma3_270M(benchmark::State& state) {
    open_and_validate(state, LOOM_DEFAULT_MODEL);
}
BENCHMARK(BM_OpenGemma3_270M)->Unit(benchmark::kMillisecond);

void BM_OpenVocabDeepseekLlm(benchmark::State& state) {
    open_and_validate(state, std::string(LOOM_FIXTURES_DIR) + "/vocab/ggml-vocab-deepseek-llm.gguf");
}
BENCHMARK(BM_OpenVocabDeepseekLlm)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

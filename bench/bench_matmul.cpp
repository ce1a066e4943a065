// The matrix product of one weight matrix with a batch of tokens (prompt processing), one
// thread, per weight type and path: `rows` (activations converted by the reference, then
// the rows kernels, as below a GEMM kernel's min_tokens), `gemm` (KernelSet::matmul:
// conversion, packing and the GEMM kernels where the level has them and the batch is
// large enough), `convert` (the reference activation conversion alone).
// Counter GMAC/s: multiply-adds (n_in x n_out x tokens) per second.
// Run: build/bench/bench_matmul [--benchmark_filter=q4_0] [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernel_set.h"
#include "quant/quant_type.h"

namespace {

using loom::gguf::GgmlType;
using loom::kernels::KernelSet;

struct Problem {
    loom::kernels::Matrix w;
    std::vector<uint8_t> weights;
    std::vector<float> x, y;
    std::vector<uint8_t> scratch;
};

Problem make_problem(GgmlType type, int64_t n_in, int64_t n_out, int64_t n) {
    Problem p;
    const loom::quant::QuantType* q = loom::quant::find_quant_type(type);
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(n_in));
    const size_t rb = loom::quant::row_bytes(*q, n_in);
    p.weights.resize(rb * static_cast<size_t>(n_out));
    for (int64_t r = 0; r < n_out; ++r) {
        for (float& v : row) v = dist(rng);
        q->quantize_row(row.data(), p.weights.data() + static_cast<size_t>(r) * rb, n_in);
    }
    p.w = {type, p.weights.data(), n_in, n_out, rb};
    p.x.resize(static_cast<size_t>(n * n_in));
    for (float& v : p.x) v = dist(rng);
    p.y.resize(static_cast<size_t>(n * n_out));
    p.scratch.resize(KernelSet::matmul_scratch_bytes(static_cast<size_t>(n), static_cast<size_t>(n_in)));
    return p;
}

enum class Path { Rows, Gemm, Convert };

void matmul(benchmark::State& state, GgmlType type, Path path) {
    const int64_t n_in = state.range(0), n_out = state.range(1), n = state.range(2);
    Problem p = make_problem(type, n_in, n_out, n);
    KernelSet set(loom::kernels::detect_isa());
    loom::ThreadPool pool(1);
    const size_t rb = loom::kernels::activation_row_bytes(type, n_in);
    for (auto _ : state) {
        if (path == Path::Gemm) {
            set.matmul(pool, p.w, p.x.data(), static_cast<size_t>(n_in), static_cast<uint32_t>(n), p.y.data(),
                       static_cast<size_t>(n_out), p.scratch.data());
        } else {
            for (int64_t t = 0; t < n; ++t) {
                loom::kernels::convert_activations(type, p.x.data() + t * n_in, n_in, p.scratch.data() + t * rb);
            }
            if (path == Path::Rows) set.matmul_rows(p.w, p.scratch.data(), rb, n, p.y.data(), n_out, 0, n_out);
        }
        benchmark::DoNotOptimize(p.y.data());
    }
    state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(n_in * n_out * n) * 1e-9,
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
    // Gemma 3 270M's up projection, Llama 3.2 1B's up and down projections at 64 tokens;
    // a square matrix at few tokens (where the GEMM starts to pay).
    b->Args({640, 2048, 64})->Args({2048, 8192, 64})->Args({8192, 2048, 64})->Args({8192, 8192, 64})->Args({2048, 2048, 2})->Args({2048, 2048, 4})->Args({2048, 2048, 6})->Args({2048, 2048, 8})->Args({2048, 2048, 12})->Unit(benchmark::kMillisecond);
}

void register_all() {
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K,
                          GgmlType::F16}) {
        const std::string name(loom::gguf::ggml_type_name(type));
        for (auto [path, label] : {std::pair{Path::Rows, "rows"}, std::pair{Path::Gemm, "gemm"},
                                   std::pair{Path::Convert, "convert"}}) {
            benchmark::RegisterBenchmark((name + "/" + label).c_str(),
                                         [type, path](benchmark::State& s) { matmul(s, type, path); })
                ->Apply(shapes);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

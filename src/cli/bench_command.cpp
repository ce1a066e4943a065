// `loom bench`: measures prompt processing and generation the way llama.cpp's llama-bench
// does, so the two can be compared on the same file and threads. Every combination of
// the listed kernel levels, threads, batch sizes and test sizes is one test.
//   ppN: from an empty context, decode one sequence of N tokens (in batches of n_batch);
//        only the last token's logits are computed, as llama-bench asks of llama.cpp.
//   tgN: from an empty context, decode N tokens one at a time, each a decode of one
//        token; no sampling, so only the forward pass is timed.
// Tokens are random ids from a seeded generator (BOS first when the model adds one), as
// in llama-bench; control tokens are left out so no special path is measured. Each test
// gets its own context of exactly the tokens it needs, runs once untimed (the warm-up:
// pages of the mapped weights come in, the pool's threads start), then -r timed
// repetitions, each from a reset context. The report is bench_report.cpp.
// Not here: depth (-d) and mixed pp+tg tests of llama-bench.
#include "cli/bench_command.h"

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <random>

#include "cli/default_model.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "gguf/ggml_type.h"
#include "gguf/summary.h"
#include "kernels/cpu_features.h"
#include "model/model.h"
#include "runtime/context.h"

namespace loom::cli {
namespace {

// The seed of the token generator: fixed, so two runs decode the same ids.
constexpr uint32_t kTokenSeed = 1234;
// Upper bound of -p and -n: far above any context a CPU run would time; a bound keeps a
// typo from reserving a KV cache of terabytes.
constexpr uint32_t kMaxTokens = 1u << 20;

struct BenchArgs {
    std::string model;
    // Lists as llama-bench takes them: a flag repeated, or one value "1,2,4", or both.
    std::vector<std::string> n_prompt{"512"};
    std::vector<std::string> n_gen{"128"};
    std::vector<std::string> threads;  // empty: the machine's hardware threads
    std::vector<std::string> batch;    // empty: the context default
    std::vector<std::string> kernels;  // levels by name; empty: the best this CPU has
    bool reference_kernels = false;
    uint32_t reps = 5;
    bool warmup = true;
    bool json = false;
    std::string output;            // md | json | csv
};

// The items of a list flag: every occurrence, split at commas ({"1,2", "4"} -> 1, 2, 4).
std::vector<std::string> list_items(const std::vector<std::string>& values) {
    std::vector<std::string> items;
    for (const std::string& text : values) {
        size_t start = 0;
        while (start <= text.size()) {
            size_t end = text.find(',', start);
            if (end == std::string::npos) end = text.size();
            items.push_back(text.substr(start, end - start));
            start = end + 1;
        }
    }
    return items;
}

// Each item an integer in [lo, hi], else a usage error naming the flag and the item.
std::vector<uint32_t> parse_list(std::string_view flag, const std::vector<std::string>& values, uint32_t lo,
                                 uint32_t hi) {
    std::vector<uint32_t> numbers;
    for (const std::string& item : list_items(values)) {
        size_t used = 0;
        long long v = -1;
        try {
            v = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || v < lo || v > hi) {
            throw Error(ErrorCode::InvalidArgument, std::string(flag) + ": \"" + item + "\" is not an integer in [" +
                                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
        }
        numbers.push_back(static_cast<uint32_t>(v));
    }
    return numbers;
}

// The kernel levels to run: --reference-kernels is scalar alone; --kernels a list.
std::vector<kernels::Isa> resolve_kernels(const BenchArgs& args) {
    if (args.reference_kernels) {
        if (!args.kernels.empty()) throw Error(ErrorCode::InvalidArgument, "give --reference-kernels or --kernels");
        return {kernels::Isa::Scalar};
    }
    if (args.kernels.empty()) return {kernels::detect_isa()};
    std::vector<kernels::Isa> levels;
    for (const std::string& item : list_items(args.kernels)) {
        std::optional<kernels::Isa> isa = kernels::parse_isa(item);
        if (!isa) {
            throw Error(ErrorCode::InvalidArgument,
                        "--kernels: \"" + item + "\" is not a kernel level (scalar, avx2, avx512-vnni)");
        }
        levels.push_back(*isa);
    }
    return levels;
}

BenchFormat resolve_format(const BenchArgs& args) {
    if (args.json) {
        if (!args.output.empty() && args.output != "json") {
            throw Error(ErrorCode::InvalidArgument, "--json and -o " + args.output + " disagree: give one");
        }
        return BenchFormat::Json;
    }
    if (args.output.empty() || args.output == "md") return BenchFormat::Markdown;
    if (args.output == "json") return BenchFormat::Json;
    if (args.output == "csv") return BenchFormat::Csv;
    throw Error(ErrorCode::InvalidArgument, "-o: \"" + args.output + "\" is not one of md, json, csv");
}

// The CPU's name as the kernel reports it: "model name" on x86, "Processor" or
// "Hardware" on some ARM kernels.
std::string cpu_model_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    for (const char* key : {"model name", "Processor", "Hardware"}) {
        in.clear();
        in.seekg(0);
        while (std::getline(in, line)) {
            if (line.rfind(key, 0) != 0) continue;
            const size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            const size_t begin = line.find_first_not_of(" \t", colon + 1);
            if (begin != std::string::npos) return line.substr(begin);
        }
    }
    return "unknown";
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Peak resident set of this process in bytes (Linux reports ru_maxrss in KiB).
uint64_t peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

// "gemma3 Q4_K_M": the architecture and the file type, else the type holding most bytes.
std::string model_type(const gguf::ModelSummary& s, std::string_view arch) {
    std::string type(arch);
    if (!s.file_type_name.empty()) {
        type += " " + std::string(s.file_type_name);
    } else if (!s.type_mix.empty()) {
        type += " " + std::string(gguf::ggml_type_name(s.type_mix.front().type));
    }
    return type;
}

// Random token ids as llama-bench draws them: BOS first when the model adds one, then
// ids drawn uniformly from the vocabulary, here without control tokens.
class TokenSource {
public:
    explicit TokenSource(const model::Model& model) : rng_(kTokenSeed) {
        const tokenizer::Vocab& vocab = model.tokenizer().vocab();
        // The output layer may be padded past the tokenizer's list: draw from both.
        const size_t n = std::min<size_t>(vocab.size(), model.hparams().n_vocab);
        for (size_t id = 0; id < n; ++id) {
            const auto token = static_cast<tokenizer::TokenId>(id);
            if (!vocab.is_control(token)) pool_.push_back(token);
        }
        if (pool_.empty()) throw Error(ErrorCode::Unsupported, "the vocabulary has no non-control token to decode");
        const tokenizer::TokenId bos = vocab.special().bos;
        if (vocab.add_bos() && vocab.contains(bos) && static_cast<size_t>(bos) < model.hparams().n_vocab) bos_ = bos;
    }

    std::vector<tokenizer::TokenId> draw(uint32_t n) {
        std::uniform_int_distribution<size_t> pick(0, pool_.size() - 1);
        std::vector<tokenizer::TokenId> ids(n);
        for (uint32_t i = 0; i < n; ++i) ids[i] = i == 0 && bos_ != tokenizer::kNoToken ? bos_ : pool_[pick(rng_)];
        return ids;
    }

private:
    std::mt19937 rng_;
    std::vector<tokenizer::TokenId> pool_;
    tokenizer::TokenId bos_ = tokenizer::kNoToken;
};

// One pp or tg test on a fresh context: warm-up (unless disabled), then reps timed runs.
BenchResult run_test(const std::shared_ptr<const model::Model>& model, TokenSource& tokens, uint32_t n_prompt,
                     uint32_t n_gen, kernels::Isa isa, unsigned n_threads, uint32_t n_batch, uint32_t reps,
                     bool warmup) {
    const uint32_t n_tokens = n_prompt + n_gen;
    runtime::Context ctx(model, {.n_ctx = n_tokens, .n_batch = n_batch, .n_threads = n_threads, .isa = isa});
    BenchResult result;
    result.test = n_prompt > 0 ? "pp" + std::to_string(n_prompt) : "tg" + std::to_string(n_gen);
    result.n_prompt = n_prompt;
    result.n_gen = n_gen;
    result.n_threads = ctx.n_threads();
    result.n_batch = n_batch;
    result.kernels = std::string(kernels::isa_name(isa));
    result.test_time = utc_now();
    const std::vector<tokenizer::TokenId> ids = tokens.draw(n_tokens);

    // The measured work; the context is reset outside the timed span.
    auto work = [&](uint32_t n_gen_steps) {
        if (n_prompt > 0) {
            ctx.decode(ids);
            return;
        }
        for (uint32_t i = 0; i < n_gen_steps; ++i) ctx.decode(std::span(&ids[i], 1));
    };
    if (warmup) {
        ctx.reset();
        work(1);  // tg warms up on one token, as llama-bench does: every decode reads all weights
    }
    for (uint32_t rep = 0; rep < reps; ++rep) {
        ctx.reset();
        const auto t0 = std::chrono::steady_clock::now();
        work(n_gen);
        const auto t1 = std::chrono::steady_clock::now();
        result.samples_ns.push_back(
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    return result;
}

}  // namespace

CommandRun setup_bench(CLI::App& app) {
    auto args = std::make_shared<BenchArgs>();
    app.add_option("-m,--model", args->model, "GGUF model (default: the default model)");
    // Each list flag takes one value per occurrence, so "-t 1 -t 2" and "-t 1,2" agree.
    app.add_option("-p,--n-prompt", args->n_prompt, "Prompt tokens of the pp test, list (default: 512; 0: no pp)")
        ->allow_extra_args(false);
    app.add_option("-n,--n-gen", args->n_gen, "Generated tokens of the tg test, list (default: 128; 0: no tg)")
        ->allow_extra_args(false);
    app.add_option("-t,--threads", args->threads, "Threads, list: each is run (default: all hardware threads)")
        ->allow_extra_args(false);
    app.add_option("-b,--batch-size", args->batch, "Prompt tokens evaluated together, list (default: " +
                                                  std::to_string(runtime::ContextParams{}.n_batch) + ")")
        ->allow_extra_args(false);
    app.add_option("--kernels", args->kernels,
                   "Kernel levels, list: scalar, avx2, avx512-vnni (default: the best available)")
        ->allow_extra_args(false);
    app.add_flag("--reference-kernels", args->reference_kernels, "Measure the scalar reference kernels");
    app.add_option("-r,--repetitions", args->reps, "Timed runs of each test")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_flag("--warmup,!--no-warmup", args->warmup, "Run each test once untimed first (default: on)");
    app.add_flag("--json", args->json, "Print a JSON array, one object per test (same as -o json)");
    app.add_option("-o,--output", args->output, "Output format: md (default), json or csv");
    return [args, &app](Io& io) {
        const BenchFormat format = resolve_format(*args);
        const std::vector<kernels::Isa> levels = resolve_kernels(*args);
        const std::vector<uint32_t> prompts = parse_list("-p", args->n_prompt, 0, kMaxTokens);
        const std::vector<uint32_t> gens = parse_list("-n", args->n_gen, 0, kMaxTokens);
        const std::vector<uint32_t> threads =
            args->threads.empty() ? std::vector<uint32_t>{0} : parse_list("-t", args->threads, 1, 1024);
        const std::vector<uint32_t> batches =
            args->batch.empty() ? std::vector<uint32_t>{runtime::ContextParams{}.n_batch}
                                : parse_list("-b", args->batch, 1, 4096);
        auto positive = [](uint32_t v) { return v > 0; };
        if (std::none_of(prompts.begin(), prompts.end(), positive) &&
            std::none_of(gens.begin(), gens.end(), positive)) {
            throw Error(ErrorCode::InvalidArgument, "nothing to measure: -p and -n are both 0");
        }

        const std::string path = args->model.empty() ? default_model_path() : args->model;
        std::shared_ptr<const model::Model> model = model::Model::load(path);
        const gguf::ModelSummary summary = gguf::summarize(model->file(), 0);
        BenchInfo info;
        info.cpu_info = cpu_model_name();
        info.n_cpu = ThreadPool::hardware_threads();
        info.model_filename = path;
        info.model_type = model_type(summary, model->arch().name);
        info.model_size = summary.n_tensor_bytes;
        info.model_n_params = summary.n_params;
        io.err << "loom bench: " << info.cpu_info << ", " << info.n_cpu << " hardware threads; " << path << "\n"
               << std::flush;

        const bool show_batch = app.count("--batch-size") > 0;
        if (format == BenchFormat::Markdown) write_bench_md_header(io.out, show_batch);
        TokenSource tokens(*model);
        std::vector<BenchResult> results;
        // llama-bench's order: for each setting, the pp tests, then the tg tests.
        for (kernels::Isa isa : levels) {
            for (uint32_t n_threads : threads) {
                for (uint32_t n_batch : batches) {
                    for (int kind = 0; kind < 2; ++kind) {
                        for (uint32_t n : kind == 0 ? prompts : gens) {
                            if (n == 0) continue;
                            results.push_back(run_test(model, tokens, kind == 0 ? n : 0, kind == 1 ? n : 0, isa,
                                                       n_threads, n_batch, args->reps, args->warmup));
                            if (format == BenchFormat::Markdown) {
                                write_bench_md_row(io.out, info, results.back(), show_batch);
                            }
                        }
                    }
                }
            }
        }
        if (format == BenchFormat::Json) write_bench_json(io.out, info, results);
        if (format == BenchFormat::Csv) write_bench_csv(io.out, info, results);
        io.out << std::flush;
        char rss[64];
        std::snprintf(rss, sizeof rss, "%.1f MiB", static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0));
        io.err << "loom bench: peak RSS " << rss << "\n";
        return 0;
    };
}

}  // namespace loom::cli

// `loom quantize`: plans the type of every tensor (quant::plan_mix), checks that each
// conversion is possible before anything is written, then streams the output through
// GgufWriter's deferred tensors: each tensor is converted when the writer reaches it, rows
// split over the thread pool (a row is dequantized to float into per-thread scratch and
// quantized straight into the output buffer).
// Spec: llama.cpp src/llama-quant.cpp (llama_model_quantize_impl) for the metadata it
// writes and the requantize rule; tools/quantize/quantize.cpp for the command's shape.
// Not here: importance matrices, --pure, --tensor-type / --output-tensor-type overrides,
// split files, pruning layers.
#include "cli/quantize_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/format.h"
#include "core/thread_pool.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/quant_mix.h"
#include "quant/quant_type.h"

namespace loom::cli {
namespace {

using gguf::GgmlType;

// ggml's GGML_QNT_VERSION: the block layouts of the current quant formats.
constexpr uint32_t kQuantizationVersion = 2;
// Rows are handed to threads in chunks of at least this many elements, as llama.cpp's
// quantizer does (min_chunk_size = 32 * 512 in llama-quant.cpp): small rows are batched so
// a chunk outweighs taking it from the shared counter.
constexpr uint64_t kMinChunkElements = 32 * 512;

struct QuantizeArgs {
    std::string input;
    std::string output;
    std::string type;
    bool allow_requantize = false;
    bool leave_output = false;
    unsigned threads = 0;
};

// Keys llama.cpp drops or rewrites: the file type and quantization version are set anew,
// and the output is one file, so split metadata would be wrong.
bool rewritten_key(std::string_view key) {
    return key == "general.file_type" || key == "general.quantization_version" ||
           key == "split.no" || key == "split.count" || key == "split.tensors.count";
}

// An integer hyperparameter, or element 0 of a per-layer array of them; 0 when absent.
uint32_t first_uint(const gguf::GgufFile& file, const std::string& key) {
    const gguf::Value* v = file.find(key);
    if (v == nullptr) return 0;
    int64_t value = 0;
    if (const gguf::Array* a = v->array()) {
        if (a->count == 0 || !gguf::is_integer(a->elem_type)) return 0;
        value = a->integer(0);
    } else if (!v->as_int64(value)) {
        return 0;
    }
    return value < 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(value, UINT32_MAX));
}

quant::MixModel mix_model(const gguf::GgufFile& file) {
    quant::MixModel m;
    m.arch = file.architecture();
    const std::string a(m.arch);
    m.n_layer = first_uint(file, a + ".block_count");
    m.n_head = first_uint(file, a + ".attention.head_count");
    m.n_head_kv = first_uint(file, a + ".attention.head_count_kv");
    m.n_expert = first_uint(file, a + ".expert_count");
    return m;
}

std::string all_type_names() {
    std::string names;
    for (const quant::FileType& ft : quant::quantize_file_types()) {
        names += (names.empty() ? "" : ", ") + std::string(ft.name);
    }
    return names;
}

double mib(uint64_t bytes) {
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// One tensor of the job: where it comes from, what it becomes.
struct Job {
    const gguf::TensorInfo* tensor;
    quant::MixChoice choice;
    const quant::QuantType* from = nullptr;  // set when the tensor is converted
    const quant::QuantType* to = nullptr;
};

// Fails before anything is written when a conversion cannot be done.
void check_conversion(Job& job, bool allow_requantize) {
    const gguf::TensorInfo& t = *job.tensor;
    const GgmlType from = t.type, to = job.choice.type;
    if (from == to) return;
    const std::string what =
        "tensor " + std::string(t.name) + " (" + std::string(gguf::ggml_type_name(from)) + ")";
    if (gguf::traits(from).quantized && !allow_requantize) {
        throw Error(
            ErrorCode::Unsupported,
            what +
                " is already quantized; requantizing loses precision (pass --allow-requantize "
                "to do it anyway, or start from the F32/F16/BF16 model)");
    }
    job.from = quant::find_quant_type(from);
    job.to = quant::find_quant_type(to);
    if (job.from == nullptr || job.from->dequantize_row == nullptr) {
        throw Error(ErrorCode::Unsupported, what + ": Loom cannot convert from this type to " +
                                                std::string(gguf::ggml_type_name(to)));
    }
    if (job.to == nullptr || job.to->quantize_row == nullptr) {
        throw Error(ErrorCode::Unsupported,
                    what + ": Loom cannot write type " + std::string(gguf::ggml_type_name(to)));
    }
}

// Converts one tensor into out (its exact size), rows spread over the pool. Returns the
// first row holding NaN or infinity, or -1: quantizing such rows gives garbage scales, and
// llama.cpp's quantizer rejects them too (ggml_validate_row_data).
int64_t convert_tensor(const Job& job, std::span<uint8_t> out, ThreadPool& pool,
                       std::vector<std::vector<float>>& scratch) {
    const gguf::TensorInfo& t = *job.tensor;
    const int64_t n_per_row = static_cast<int64_t>(t.ne[0]);
    const size_t n_rows = n_per_row == 0 ? 0 : static_cast<size_t>(t.n_elements / t.ne[0]);
    const size_t in_row = quant::row_bytes(*job.from, n_per_row);
    const size_t out_row = quant::row_bytes(*job.to, n_per_row);
    const size_t grain = std::max<size_t>(1, kMinChunkElements / std::max<int64_t>(n_per_row, 1));
    std::atomic<int64_t> bad_row{-1};
    pool.for_range(n_rows, grain, [&](size_t begin, size_t end, unsigned thread) {
        float* row = scratch[thread].data();
        for (size_t r = begin; r < end; ++r) {
            job.from->dequantize_row(t.data.data() + r * in_row, row, n_per_row);
            if (!std::all_of(row, row + n_per_row, [](float x) { return std::isfinite(x); })) {
                int64_t expected = -1;
                bad_row.compare_exchange_strong(expected, static_cast<int64_t>(r));
                return;
            }
            job.to->quantize_row(row, out.data() + r * out_row, n_per_row);
        }
    });
    return bad_row.load();
}

struct Totals {
    uint64_t n_elements = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    size_t n_fallback = 0;
    std::map<std::string_view, std::pair<size_t, uint64_t>> by_type;  // name -> (tensors, bytes)
};

void write_summary(std::ostream& err, const Totals& totals, double seconds) {
    err << "loom quantize: tensors by type:";
    for (const auto& [name, entry] : totals.by_type) {
        char line[96];
        std::snprintf(line, sizeof line, "\n  %-7s %5zu tensors %12s", std::string(name).c_str(),
                      entry.first, format_bytes(entry.second).c_str());
        err << line;
    }
    const double n = std::max<double>(1.0, static_cast<double>(totals.n_elements));
    char line[160];
    std::snprintf(line, sizeof line,
                  "\nloom quantize: %.2f MiB (%.2f bpw) -> %.2f MiB (%.2f bpw) in %.2f s",
                  mib(totals.bytes_in), 8.0 * static_cast<double>(totals.bytes_in) / n,
                  mib(totals.bytes_out), 8.0 * static_cast<double>(totals.bytes_out) / n, seconds);
    err << line;
    if (totals.n_fallback > 0) {
        err << "\nloom quantize: " << totals.n_fallback
            << " tensor(s) fell back to another type: their rows do not fit the mix's blocks";
    }
    err << "\n";
}

int run_quantize(const QuantizeArgs& args, Io& io) {
    const auto start = std::chrono::steady_clock::now();
    const quant::FileType* ft = quant::find_file_type(args.type);
    if (ft == nullptr) {
        throw Error(ErrorCode::InvalidArgument,
                    "unknown type \"" + args.type + "\"; expected one of " + all_type_names());
    }
    gguf::GgufFile file = gguf::GgufFile::open(args.input);
    if (first_uint(file, "split.count") > 1) {
        throw Error(ErrorCode::Unsupported, args.input +
                                                ": one shard of a split model; merge the shards "
                                                "first (llama-gguf-split --merge)");
    }

    const std::vector<gguf::TensorInfo>& tensors = file.tensors();
    std::vector<quant::MixTensor> mix_tensors;
    mix_tensors.reserve(tensors.size());
    for (const gguf::TensorInfo& t : tensors)
        mix_tensors.push_back({t.name, t.n_dims, t.ne[0], t.type});
    quant::MixOptions options;
    options.leave_output = args.leave_output;
    const std::vector<quant::MixChoice> choices =
        plan_mix(*ft, mix_model(file), mix_tensors, options);

    std::vector<Job> jobs(tensors.size());
    uint64_t max_row = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        jobs[i] = {&tensors[i], choices[i]};
        check_conversion(jobs[i], args.allow_requantize);
        if (jobs[i].from != nullptr) max_row = std::max(max_row, tensors[i].ne[0]);
    }

    gguf::GgufWriter writer;
    for (const gguf::KeyValue& kv : file.metadata()) {
        if (!rewritten_key(kv.key)) writer.add_value(kv.key, kv.value);
    }
    writer.add("general.quantization_version", kQuantizationVersion);
    writer.add("general.file_type", static_cast<uint32_t>(ft->id));

    ThreadPool pool(args.threads);
    std::vector<std::vector<float>> scratch(pool.size(), std::vector<float>(max_row));
    // The header is printed when the first tensor is produced, so that an output which
    // cannot be opened still gives a single error line.
    auto print_header = [&] {
        io.err << "loom quantize: " << args.input << " -> " << args.output << " as " << ft->name
               << ", " << tensors.size() << " tensors, " << pool.size() << " threads\n";
    };

    Totals totals;
    for (size_t i = 0; i < jobs.size(); ++i) {
        const gguf::TensorInfo& info = *jobs[i].tensor;
        totals.n_elements += info.n_elements;
        totals.bytes_in += info.n_bytes;
        totals.n_fallback += jobs[i].choice.fallback ? 1 : 0;
        auto produce = [&jobs, &pool, &scratch, &totals, &io, &print_header,
                        i](std::span<uint8_t> out) {
            const Job& job = jobs[i];
            const gguf::TensorInfo& t = *job.tensor;
            if (i == 0) print_header();
            if (job.from == nullptr) {
                std::memcpy(out.data(), t.data.data(), out.size());
            } else if (int64_t row = convert_tensor(job, out, pool, scratch); row >= 0) {
                throw Error(ErrorCode::Format, "tensor " + std::string(t.name) + " row " +
                                                   std::to_string(row) +
                                                   ": NaN or infinity; the input model is damaged");
            }
            char line[200];
            std::snprintf(
                line, sizeof line, "[%4zu/%4zu] %-36s %-22s %6s -> %-6s %9.3f MiB -> %9.3f MiB%s\n",
                i + 1, jobs.size(), std::string(t.name).c_str(), t.shape_string().c_str(),
                std::string(gguf::ggml_type_name(t.type)).c_str(),
                std::string(gguf::ggml_type_name(job.choice.type)).c_str(), mib(t.n_bytes),
                mib(out.size()), job.choice.fallback ? " (fallback)" : "");
            io.err << line << std::flush;
            totals.bytes_out += out.size();
            auto& [count, bytes] = totals.by_type[gguf::ggml_type_name(job.choice.type)];
            ++count;
            bytes += out.size();
        };
        writer.add_tensor_deferred(info.name, jobs[i].choice.type,
                                   std::span<const uint64_t>(info.ne.data(), info.n_dims), produce);
    }
    if (jobs.empty()) print_header();
    writer.write_file(args.output);

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_summary(io.err, totals, seconds);
    return 0;
}

}  // namespace

CommandRun setup_quantize(CLI::App& app) {
    auto args = std::make_shared<QuantizeArgs>();
    app.add_option("input", args->input,
                   "GGUF model to read (F32, F16 or BF16; quantized with --allow-requantize)")
        ->required();
    app.add_option("output", args->output, "GGUF file to write")->required();
    app.add_option("type", args->type, "File type as llama.cpp names it: " + all_type_names())
        ->required();
    app.add_flag("--allow-requantize", args->allow_requantize,
                 "Convert tensors that are already quantized (loses precision)");
    app.add_flag("--leave-output", args->leave_output, "Keep output.weight in its input type");
    app.add_option("-t,--threads", args->threads, "Threads (default: all hardware threads)")
        ->check(CLI::Range(1, 1024));
    return [args](Io& io) { return run_quantize(*args, io); };
}

}  // namespace loom::cli

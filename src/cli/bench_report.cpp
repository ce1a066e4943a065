// `loom bench` reporting: statistics over the repetitions, and the three outputs — a
// markdown table shaped like llama-bench's (plus min and max columns), a JSON array and
// CSV with llama-bench's field names where one exists. Does not measure anything.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <tuple>

#include "cli/bench_command.h"
#include "cli/build_info.h"

namespace loom::cli {
namespace {

std::string fixed2(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// Mean and sample standard deviation (n - 1), as llama-bench computes them; 0 spread
// for a single sample.
std::pair<double, double> mean_stddev(const std::vector<double>& values) {
    if (values.empty()) return {0.0, 0.0};
    double sum = 0;
    for (double v : values) sum += v;
    const double mean = sum / static_cast<double>(values.size());
    if (values.size() < 2) return {mean, 0.0};
    double sq = 0;
    for (double v : values) sq += (v - mean) * (v - mean);
    return {mean, std::sqrt(sq / static_cast<double>(values.size() - 1))};
}

double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

// llama-bench's size and params cells: "241.06 MiB", "268.10 M".
std::string size_cell(uint64_t bytes) {
    constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
    const double b = static_cast<double>(bytes);
    return b < kGiB ? fixed2(b / (1024.0 * 1024.0)) + " MiB" : fixed2(b / kGiB) + " GiB";
}

std::string params_cell(uint64_t n) {
    const double v = static_cast<double>(n);
    if (v >= 1e9) return fixed2(v / 1e9) + " B";
    if (v >= 1e6) return fixed2(v / 1e6) + " M";
    return fixed2(v / 1e3) + " K";
}

// A markdown row: each cell padded to its width, left- or right-aligned.
struct Column {
    const char* name;
    int width;
    bool left;
};

std::vector<Column> columns(bool show_batch) {
    std::vector<Column> cols = {{"model", 30, true}, {"size", 10, false}, {"params", 10, false},
                                {"kernels", 11, true}, {"threads", 7, false}};
    if (show_batch) cols.push_back({"n_batch", 7, false});
    cols.push_back({"test", 13, false});
    cols.push_back({"t/s (median ± sd)", 20, false});
    cols.push_back({"min t/s", 10, false});
    cols.push_back({"max t/s", 10, false});
    return cols;
}

// Display width of a cell: counts UTF-8 code points, so "±" takes one column.
int display_width(const std::string& text) {
    int n = 0;
    for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

void write_cells(std::ostream& out, const std::vector<Column>& cols, const std::vector<std::string>& cells) {
    out << '|';
    for (size_t i = 0; i < cols.size(); ++i) {
        const int pad = std::max(0, cols[i].width - display_width(cells[i]));
        out << ' ';
        if (!cols[i].left) out << std::string(static_cast<size_t>(pad), ' ');
        out << cells[i];
        if (cols[i].left) out << std::string(static_cast<size_t>(pad), ' ');
        out << " |";
    }
    out << '\n';
}

nlohmann::ordered_json result_json(const BenchInfo& info, const BenchResult& r) {
    const BenchStats s = bench_stats(r);
    nlohmann::ordered_json j;
    j["loom_version"] = kVersion;
    j["build_commit"] = kGitCommit;  // llama-bench's name, for its compare script
    j["cpu_info"] = info.cpu_info;
    j["n_cpu"] = info.n_cpu;
    j["model_filename"] = info.model_filename;
    j["model_type"] = info.model_type;
    j["model_size"] = info.model_size;
    j["model_n_params"] = info.model_n_params;
    j["kernels"] = r.kernels;
    j["n_batch"] = r.n_batch;
    j["n_threads"] = r.n_threads;  // llama-bench's name
    j["threads"] = r.n_threads;
    j["test"] = r.test;
    j["n_prompt"] = r.n_prompt;
    j["n_gen"] = r.n_gen;
    j["reps"] = r.samples_ns.size();
    j["test_time"] = r.test_time;
    j["avg_ns"] = s.avg_ns;
    j["stddev_ns"] = s.stddev_ns;
    j["avg_ts"] = s.avg_ts;
    j["stddev_ts"] = s.stddev_ts;
    j["tokens_per_second"] = s.median_ts;
    j["tokens_per_second_min"] = s.min_ts;
    j["tokens_per_second_max"] = s.max_ts;
    j["samples_ns"] = r.samples_ns;
    j["samples_ts"] = s.samples_ts;
    return j;
}

// A CSV field, always quoted (as llama-bench does), quotes doubled.
std::string csv_field(const nlohmann::ordered_json& value) {
    std::string text;
    if (value.is_string()) {
        text = value.get<std::string>();
    } else if (value.is_array()) {
        for (const auto& item : value) text += (text.empty() ? "" : " ") + item.dump();
    } else {
        text = value.dump();
    }
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

}  // namespace

BenchStats bench_stats(const BenchResult& r) {
    BenchStats s;
    const double n_tokens = static_cast<double>(r.n_prompt + r.n_gen);
    std::vector<double> ns;
    for (uint64_t t : r.samples_ns) {
        ns.push_back(static_cast<double>(t));
        // A sample under 1 ns cannot happen with a real decode; guard the division anyway.
        s.samples_ts.push_back(n_tokens * 1e9 / std::max(1.0, static_cast<double>(t)));
    }
    std::tie(s.avg_ns, s.stddev_ns) = mean_stddev(ns);
    std::tie(s.avg_ts, s.stddev_ts) = mean_stddev(s.samples_ts);
    s.median_ts = median(s.samples_ts);
    if (!s.samples_ts.empty()) {
        auto [lo, hi] = std::minmax_element(s.samples_ts.begin(), s.samples_ts.end());
        s.min_ts = *lo;
        s.max_ts = *hi;
    }
    return s;
}

void write_bench_md_header(std::ostream& out, bool show_batch) {
    const std::vector<Column> cols = columns(show_batch);
    std::vector<std::string> names, rules;
    for (const Column& c : cols) {
        names.emplace_back(c.name);
        rules.push_back(std::string(static_cast<size_t>(c.width - (c.left ? 0 : 1)), '-') + (c.left ? "" : ":"));
    }
    write_cells(out, cols, names);
    write_cells(out, cols, rules);
    out << std::flush;
}

void write_bench_md_row(std::ostream& out, const BenchInfo& info, const BenchResult& r, bool show_batch) {
    const BenchStats s = bench_stats(r);
    std::vector<std::string> cells = {info.model_type, size_cell(info.model_size), params_cell(info.model_n_params),
                                      r.kernels, std::to_string(r.n_threads)};
    if (show_batch) cells.push_back(std::to_string(r.n_batch));
    cells.push_back(r.test);
    cells.push_back(fixed2(s.median_ts) + " ± " + fixed2(s.stddev_ts));
    cells.push_back(fixed2(s.min_ts));
    cells.push_back(fixed2(s.max_ts));
    write_cells(out, columns(show_batch), cells);
    out << std::flush;
}

void write_bench_json(std::ostream& out, const BenchInfo& info, const std::vector<BenchResult>& results) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const BenchResult& r : results) all.push_back(result_json(info, r));
    out << all.dump(2) << '\n';
}

void write_bench_csv(std::ostream& out, const BenchInfo& info, const std::vector<BenchResult>& results) {
    for (size_t i = 0; i < results.size(); ++i) {
        const nlohmann::ordered_json j = result_json(info, results[i]);
        if (i == 0) {
            bool first = true;
            for (const auto& [key, value] : j.items()) {
                out << (first ? "" : ",") << csv_field(key);
                first = false;
            }
            out << '\n';
        }
        bool first = true;
        for (const auto& [key, value] : j.items()) {
            out << (first ? "" : ",") << csv_field(value);
            first = false;
        }
        out << '\n';
    }
}

}  // namespace loom::cli

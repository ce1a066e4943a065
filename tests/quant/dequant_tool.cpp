// quant_dequant_tool: a test-only driver of Loom's quant layer for
// tests/python/test_quant_reference.py, which compares its output bit for bit with gguf-py
// and with ggml's own reference functions (through ctypes).
//
//   quant_dequant_tool FILE TENSOR [ROW_BEGIN ROW_END]
//       dequantizes rows [ROW_BEGIN, ROW_END) of a tensor (a row is ne[0] elements; all
//       rows by default) and writes them to stdout as float32 little-endian
//   quant_dequant_tool --batch FILE
//       reads lines "TENSOR ROW_BEGIN ROW_END" on stdin and writes each range's floats to
//       stdout in order (one parse of FILE for many tensors)
//   quant_dequant_tool --types
//       the quant type table, one line per type: name id block_size block_bytes partner
//       has_vec_dot
//   quant_dequant_tool --dequantize TYPE      raw blocks on stdin -> float32 on stdout
//   quant_dequant_tool --quantize TYPE        float32 on stdin -> raw blocks on stdout
//   quant_dequant_tool --vec-dot TYPE N       stdin: N elements of TYPE, then N of its dot
//                                             partner; prints the result's fp32 bits (hex)
//
// Exit status: 0 success, 1 a loom::Error or bad input, 2 bad usage.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "quant/quant_type.h"

namespace {

using loom::Error;
using loom::ErrorCode;
using loom::quant::QuantType;

constexpr int kExitUsage = 2;

void usage() {
    std::cerr << "usage: quant_dequant_tool FILE TENSOR [ROW_BEGIN ROW_END]\n"
                 "       quant_dequant_tool --batch FILE   (stdin: TENSOR ROW_BEGIN ROW_END)\n"
                 "       quant_dequant_tool --types\n"
                 "       quant_dequant_tool --dequantize|--quantize TYPE\n"
                 "       quant_dequant_tool --vec-dot TYPE N\n";
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

const QuantType& type_by_name(std::string_view name) {
    for (const auto& qt : loom::quant::quant_types()) {
        if (lower(qt.name) == lower(name)) return qt;
    }
    throw Error(ErrorCode::InvalidArgument, "unknown or unsupported type: " + std::string(name));
}

uint64_t parse_count(std::string_view text, std::string_view what) {
    if (text.empty() || text.size() > 18) {
        throw Error(ErrorCode::InvalidArgument,
                    std::string(what) + ": not a count: " + std::string(text));
    }
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            throw Error(ErrorCode::InvalidArgument,
                        std::string(what) + ": not a count: " + std::string(text));
        }
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

std::vector<uint8_t> read_stdin() {
    std::vector<uint8_t> bytes;
    char buffer[1 << 16];
    size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) {
        bytes.insert(bytes.end(), buffer, buffer + got);
    }
    return bytes;
}

void write_stdout(const void* data, size_t bytes) {
    if (std::fwrite(data, 1, bytes, stdout) != bytes || std::fflush(stdout) != 0) {
        throw Error(ErrorCode::Io, "cannot write to stdout");
    }
}

int64_t elements_of(const QuantType& qt, size_t bytes) {
    if (bytes % qt.block_bytes != 0) {
        throw Error(ErrorCode::Format, std::to_string(bytes) + " bytes are not whole " +
                                           std::string(qt.name) + " blocks of " +
                                           std::to_string(qt.block_bytes));
    }
    return static_cast<int64_t>(bytes / qt.block_bytes) * qt.block_size;
}

loom::gguf::GgufFile open_file(const std::string& path) {
    loom::gguf::ReadOptions options;
    options.validate_known_keys = false;  // synthetic test files carry no architecture
    return loom::gguf::GgufFile::open(path, options);
}

// Writes rows [begin, end) of a tensor as float32; a null begin_arg means all rows.
void write_rows(const loom::gguf::GgufFile& file, std::string_view name, const char* begin_arg,
                const char* end_arg) {
    const auto& tensor = file.tensor(name);
    const QuantType* qt = loom::quant::find_quant_type(tensor.type);
    if (qt == nullptr) {
        throw Error(ErrorCode::Unsupported,
                    std::string(name) + ": type " +
                        std::string(loom::gguf::ggml_type_name(tensor.type)) +
                        " cannot be dequantized by Loom");
    }
    const uint64_t row_elements = tensor.ne[0];
    if (row_elements == 0 || row_elements % qt->block_size != 0) {
        throw Error(ErrorCode::Format, std::string(name) + ": row of " +
                                           std::to_string(row_elements) +
                                           " elements is not whole blocks");
    }
    const uint64_t n_rows = tensor.n_elements / row_elements;
    uint64_t begin = 0;
    uint64_t end = n_rows;
    if (begin_arg != nullptr) {
        begin = parse_count(begin_arg, "ROW_BEGIN");
        end = parse_count(end_arg, "ROW_END");
        if (begin > end || end > n_rows) {
            throw Error(ErrorCode::OutOfRange, "rows [" + std::to_string(begin) + ", " +
                                                   std::to_string(end) + ") outside the " +
                                                   std::to_string(n_rows) + " rows of " +
                                                   std::string(name));
        }
    }
    const size_t row_bytes = loom::quant::row_bytes(*qt, static_cast<int64_t>(row_elements));
    std::vector<float> out(row_elements);
    for (uint64_t r = begin; r < end; ++r) {
        qt->dequantize_row(tensor.data.data() + r * row_bytes, out.data(),
                           static_cast<int64_t>(row_elements));
        write_stdout(out.data(), out.size() * sizeof(float));
    }
}

int dequantize_batch(const std::string& path) {
    const auto file = open_file(path);
    std::string name;
    std::string begin;
    std::string end;
    while (std::cin >> name >> begin >> end) write_rows(file, name, begin.c_str(), end.c_str());
    return 0;
}

int print_types() {
    for (const auto& qt : loom::quant::quant_types()) {
        std::cout << qt.name << ' ' << static_cast<uint32_t>(qt.type) << ' ' << qt.block_size
                  << ' ' << qt.block_bytes << ' '
                  << loom::quant::find_quant_type(qt.dot_partner)->name << ' '
                  << (qt.vec_dot != nullptr ? 1 : 0) << '\n';
    }
    return 0;
}

int dequantize_raw(const QuantType& qt) {
    const auto bytes = read_stdin();
    const int64_t n = elements_of(qt, bytes.size());
    std::vector<float> out(static_cast<size_t>(n));
    qt.dequantize_row(bytes.data(), out.data(), n);
    write_stdout(out.data(), out.size() * sizeof(float));
    return 0;
}

int quantize_raw(const QuantType& qt) {
    const auto bytes = read_stdin();
    if (bytes.size() % sizeof(float) != 0) throw Error(ErrorCode::Format, "not whole floats");
    const auto n = static_cast<int64_t>(bytes.size() / sizeof(float));
    if (n % qt.block_size != 0) {
        throw Error(ErrorCode::Format, std::to_string(n) + " floats are not whole blocks");
    }
    std::vector<float> in(static_cast<size_t>(n));
    std::memcpy(in.data(), bytes.data(), bytes.size());
    std::vector<uint8_t> out(loom::quant::row_bytes(qt, n));
    qt.quantize_row(in.data(), out.data(), n);
    write_stdout(out.data(), out.size());
    return 0;
}

int vec_dot_raw(const QuantType& qt, const char* n_arg) {
    const auto n = static_cast<int64_t>(parse_count(n_arg, "N"));
    const QuantType& partner = *loom::quant::find_quant_type(qt.dot_partner);
    if (n % qt.block_size != 0) throw Error(ErrorCode::Format, "N is not whole blocks");
    const size_t x_bytes = loom::quant::row_bytes(qt, n);
    const size_t y_bytes = loom::quant::row_bytes(partner, n);
    const auto bytes = read_stdin();
    if (bytes.size() != x_bytes + y_bytes) {
        throw Error(ErrorCode::Format, "expected " + std::to_string(x_bytes + y_bytes) +
                                           " bytes on stdin, got " + std::to_string(bytes.size()));
    }
    const float result = loom::quant::vec_dot(qt.type, n, bytes.data(), bytes.data() + x_bytes);
    uint32_t bits = 0;
    std::memcpy(&bits, &result, sizeof bits);
    char text[16];
    std::snprintf(text, sizeof text, "%08x", bits);
    std::cout << text << '\n';
    return 0;
}

int run(int argc, char** argv) {
    if (argc < 2) {
        usage();
        return kExitUsage;
    }
    const std::string_view command = argv[1];
    if (command == "--types" && argc == 2) return print_types();
    if (command == "--dequantize" && argc == 3) return dequantize_raw(type_by_name(argv[2]));
    if (command == "--quantize" && argc == 3) return quantize_raw(type_by_name(argv[2]));
    if (command == "--vec-dot" && argc == 4) return vec_dot_raw(type_by_name(argv[2]), argv[3]);
    if (command == "--batch" && argc == 3) return dequantize_batch(argv[2]);
    if (!command.starts_with("--") && (argc == 3 || argc == 5)) {
        write_rows(open_file(argv[1]), argv[2], argc == 5 ? argv[3] : nullptr,
                   argc == 5 ? argv[4] : nullptr);
        return 0;
    }
    usage();
    return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "quant_dequant_tool: " << e.what() << '\n';
        return 1;
    }
}

// GGUF reader fuzz entry. A loom::Error is the expected answer to bad bytes; anything
// else (a crash, a sanitizer report, another exception type) is a bug.
#include "fuzz/gguf_reader_entry.h"

#include <span>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "gguf/summary.h"

namespace loom::fuzz {
namespace {

uint64_t touch(const gguf::Value& value) {
    uint64_t sum = 0;
    if (const gguf::Array* arr = value.array()) {
        for (uint64_t i = 0; i < arr->count && i < 64; ++i) {
            if (arr->elem_type == gguf::ValueType::String) {
                sum += arr->strings[i].size();
            } else if (arr->elem_type == gguf::ValueType::Array) {
                sum += touch(arr->arrays[i]);
            } else {
                sum += static_cast<uint64_t>(arr->number(i) != 0);
            }
        }
    } else if (const auto* s = value.string()) {
        sum += s->size();
    }
    return sum + value.type_description().size();
}

void parse_and_walk(const uint8_t* data, size_t size, const gguf::ReadOptions& options) {
    auto file = gguf::GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz", options);
    uint64_t sum = 0;
    for (const gguf::KeyValue& kv : file.metadata()) sum += touch(kv.value);
    for (const gguf::TensorInfo& t : file.tensors()) {
        if (!t.data.empty()) sum += t.data.front() + t.data.back();
    }
    gguf::ModelSummary summary = gguf::summarize(file);
    sum += summary.n_params + summary.bos_text.size() + summary.eos_text.size();
    volatile uint64_t sink = sum;
    (void)sink;
}

}  // namespace

int gguf_reader_one_input(const uint8_t* data, size_t size) {
    try {
        parse_and_walk(data, size, gguf::ReadOptions{});
    } catch (const Error&) {
        // Rejected with a message: the expected outcome for malformed input. The same
        // bytes without the known-key checks exercise the lenient summary path.
        try {
            gguf::ReadOptions lenient;
            lenient.validate_known_keys = false;
            parse_and_walk(data, size, lenient);
        } catch (const Error&) {
        }
    }
    return 0;
}

}  // namespace loom::fuzz

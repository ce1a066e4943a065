// Replays the kept fuzz corpora of the HTTP request parser (fuzz/corpus/http_request/)
// and of the OpenAI request parsers (fuzz/corpus/openai_request/) through the fuzz
// targets' own entry points, compiled into this test: every input the fuzzer kept, and
// every former crash, must still pass its checks (a failed check aborts the test binary).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "fuzz/openai_request_entry.h"
#include "test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace loom {
namespace {

size_t replay(const char* target, int (*entry)(const uint8_t*, size_t)) {
    auto dir = std::filesystem::path(LOOM_SOURCE_DIR) / "fuzz" / "corpus" / target;
    size_t n = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
        if (!file.is_regular_file()) continue;
        auto bytes = test::read_bytes(file.path());
        EXPECT_EQ(entry(bytes.data(), bytes.size()), 0) << file.path();
        ++n;
    }
    return n;
}

TEST(HttpFuzzCorpus, Replays) { EXPECT_GE(replay("http_request", LLVMFuzzerTestOneInput), 20u); }

TEST(OpenAiFuzzCorpus, Replays) {
    EXPECT_GE(replay("openai_request", fuzz::openai_request_one_input), 20u);
}

}  // namespace
}  // namespace loom

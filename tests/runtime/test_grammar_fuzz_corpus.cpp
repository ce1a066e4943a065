// Replays the kept fuzz corpus of the grammar parser and matcher (fuzz/corpus/grammar/)
// through the fuzz target's own entry point, compiled into this test: every input the
// fuzzer kept, and every former crash, must still pass its checks (a failed check
// aborts the test binary).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace loom {
namespace {

TEST(GrammarFuzzCorpus, Replays) {
    auto dir = std::filesystem::path(LOOM_SOURCE_DIR) / "fuzz" / "corpus" / "grammar";
    size_t n = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
        if (!file.is_regular_file()) continue;
        auto bytes = test::read_bytes(file.path());
        EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0) << file.path();
        ++n;
    }
    EXPECT_GE(n, 20u);
}

}  // namespace
}  // namespace loom

// Replays the kept fuzz corpus (fuzz/corpus/<target>/) through the fuzz entry points in
// the normal build: every input the fuzzer ever kept, including crash reproducers turned
// into regression inputs, must still be handled without a crash.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/gguf_reader_entry.h"
#include "test_util.h"

namespace loom {
namespace {

TEST(FuzzCorpus, GgufReaderReplays) {
    auto dir = std::filesystem::path(LOOM_SOURCE_DIR) / "fuzz" / "corpus" / "gguf_reader";
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        auto bytes = loom::test::read_bytes(entry.path());
        EXPECT_EQ(fuzz::gguf_reader_one_input(bytes.data(), bytes.size()), 0) << entry.path();
        ++n;
    }
    EXPECT_GE(n, 10u) << "the kept corpus is missing from " << dir;
}

}  // namespace
}  // namespace loom

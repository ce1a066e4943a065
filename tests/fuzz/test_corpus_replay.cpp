// Replays the kept fuzz corpus (fuzz/corpus/<target>/) through the fuzz entry points in
// the normal build: every input the fuzzer ever kept, including crash reproducers turned
// into regression inputs, must still be handled without a crash.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/gguf_reader_entry.h"
#include "fuzz/jinja_entry.h"
#include "fuzz/tokenizer_entry.h"
#include "test_util.h"

namespace loom {
namespace {

size_t replay(const std::string& target, int (*entry)(const uint8_t*, size_t)) {
    auto dir = std::filesystem::path(LOOM_SOURCE_DIR) / "fuzz" / "corpus" / target;
    size_t n = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
        if (!file.is_regular_file()) continue;
        auto bytes = loom::test::read_bytes(file.path());
        EXPECT_EQ(entry(bytes.data(), bytes.size()), 0) << file.path();
        ++n;
    }
    return n;
}

TEST(FuzzCorpus, GgufReaderReplays) { EXPECT_GE(replay("gguf_reader", fuzz::gguf_reader_one_input), 10u); }

TEST(FuzzCorpus, JinjaReplays) { EXPECT_GE(replay("jinja", fuzz::jinja_one_input), 10u); }

TEST(FuzzCorpus, TokenizerReplays) {
    ASSERT_TRUE(fuzz::tokenizer_init(LOOM_FIXTURES_DIR));
    EXPECT_GE(replay("tokenizer", fuzz::tokenizer_one_input), 10u);
}

}  // namespace
}  // namespace loom

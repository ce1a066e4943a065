// Tests of gguf::summarize on the real files.
#include <gtest/gtest.h>

#include "gguf/gguf_file.h"
#include "gguf/summary.h"
#include "test_util.h"

namespace loom::gguf {
namespace {

TEST(Summary, Stories260K) {
    GgufFile f = GgufFile::open(loom::test::fixture("stories260K.gguf"));
    ModelSummary s = summarize(f, 3);
    EXPECT_EQ(s.architecture, "llama");
    EXPECT_EQ(s.n_params, 292800u);
    EXPECT_EQ(s.n_layer, 5u);
    EXPECT_EQ(s.n_embd, 64u);
    EXPECT_EQ(s.n_ff, 172u);
    EXPECT_EQ(s.n_head, 8u);
    EXPECT_EQ(s.n_head_kv, 4u);
    EXPECT_EQ(s.head_dim, 8u);
    EXPECT_EQ(s.n_ctx_train, 128u);
    EXPECT_EQ(s.n_vocab, 512u);
    EXPECT_EQ(s.tokenizer_model, "llama");
    EXPECT_EQ(s.bos_text, "<s>");
    EXPECT_DOUBLE_EQ(s.bits_per_weight, 32.0);
    ASSERT_EQ(s.type_mix.size(), 1u);
    EXPECT_EQ(s.type_mix[0].n_tensors, 48u);
    ASSERT_EQ(s.largest_tensors.size(), 3u);
    EXPECT_EQ(s.largest_tensors[0]->name, "token_embd.weight");
}

TEST(Summary, Gemma3) {
    GgufFile f = GgufFile::open(loom::test::default_model());
    ModelSummary s = summarize(f);
    EXPECT_EQ(s.architecture, "gemma3");
    EXPECT_EQ(s.file_type_name, "Q4_K_M");
    EXPECT_EQ(s.n_params, 268098176u);
    EXPECT_EQ(s.n_layer, 18u);
    EXPECT_EQ(s.n_head, 4u);
    EXPECT_EQ(s.n_head_kv, 1u);
    EXPECT_EQ(s.head_dim, 256u);
    EXPECT_EQ(s.n_vocab, 262144u);
    EXPECT_EQ(s.n_ctx_train, 32768u);
    EXPECT_EQ(s.type_mix.size(), 5u);
    EXPECT_EQ(s.largest_tensors[0]->name, "token_embd.weight");
}

}  // namespace
}  // namespace loom::gguf

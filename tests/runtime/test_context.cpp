// Context: batching and threads change nothing (bit for bit), the sliding window on a
// llama model, context-full and bad-token errors leave the state unchanged, truncate
// reuses a prefix exactly.
#include "runtime/context.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_writer.h"
#include "test_util.h"

namespace loom::runtime {
namespace {

using tokenizer::TokenId;

std::shared_ptr<const model::Model> stories() {
    return model::Model::load(test::fixture("stories260K.gguf"));
}

std::vector<TokenId> prompt(const model::Model& m) {
    return m.tokenizer().encode(
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her "
        "friends and her dog.",
        true, false);
}

// Logits after each token, decoding one token at a time on one thread.
std::vector<std::vector<float>> step_by_step(std::shared_ptr<const model::Model> m, const std::vector<TokenId>& ids) {
    Context ctx(m, {.n_ctx = 256, .n_batch = 1, .n_threads = 1});
    std::vector<std::vector<float>> rows;
    for (TokenId id : ids) {
        std::span<const float> l = ctx.decode(std::span<const TokenId>(&id, 1));
        rows.emplace_back(l.begin(), l.end());
    }
    return rows;
}

TEST(Context, BatchesAndThreadsGiveIdenticalLogits) {
    auto m = stories();
    std::vector<TokenId> ids = prompt(*m);
    ASSERT_GT(ids.size(), 20u);
    auto expected = step_by_step(m, ids);
    const size_t n_vocab = m->hparams().n_vocab;
    for (ContextParams p : {ContextParams{.n_ctx = 256, .n_batch = 64, .n_threads = 2},
                            ContextParams{.n_ctx = 256, .n_batch = 7, .n_threads = 3},
                            ContextParams{.n_ctx = 256, .n_batch = 1, .n_threads = 4}}) {
        Context ctx(m, p);
        std::span<const float> all = ctx.decode_all(ids);
        ASSERT_EQ(all.size(), ids.size() * n_vocab);
        for (size_t t = 0; t < ids.size(); ++t) {
            for (size_t v = 0; v < n_vocab; ++v) {
                ASSERT_EQ(all[t * n_vocab + v], expected[t][v])
                    << "batch " << p.n_batch << ", threads " << p.n_threads << ", token " << t << ", logit " << v;
            }
        }
        Context last(m, p);
        std::span<const float> l = last.decode(ids);
        EXPECT_EQ(std::vector<float>(l.begin(), l.end()), expected.back());
    }
}

TEST(Context, SlidingWindowOnLlamaLimitsAttention) {
    auto base = stories();
    std::vector<TokenId> ids = prompt(*base);
    auto expected = step_by_step(base, ids);
    const size_t n_vocab = base->hparams().n_vocab;
    const auto dir = std::filesystem::temp_directory_path() / ("loom-swa-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    for (uint32_t window : {4u, 1000u}) {
        gguf::GgufWriter w = gguf::GgufWriter::copy_of(base->file());
        w.add("llama.attention.sliding_window", window);
        const auto path = dir / ("swa" + std::to_string(window) + ".gguf");
        w.write_file(path);
        auto m = model::Model::load(path);
        ASSERT_EQ(m->hparams().n_swa, window);
        Context ctx(m, {.n_ctx = 256, .n_batch = 16, .n_threads = 2});
        std::span<const float> all = ctx.decode_all(ids);
        size_t differing_rows = 0;
        for (size_t t = 0; t < ids.size(); ++t) {
            const bool same = std::equal(expected[t].begin(), expected[t].end(), all.begin() + t * n_vocab);
            if (t < window) {
                EXPECT_TRUE(same) << "window " << window << ", token " << t << " sees all its keys";
            }
            differing_rows += same ? 0 : 1;
        }
        if (window < ids.size()) {
            EXPECT_EQ(differing_rows, ids.size() - window) << "every token past the window attends to fewer keys";
        } else {
            EXPECT_EQ(differing_rows, 0u);
        }
    }
    std::filesystem::remove_all(dir);
}

TEST(Context, ContextFullAndBadTokensLeaveTheStateUnchanged) {
    auto m = stories();
    Context ctx(m, {.n_ctx = 8, .n_batch = 4, .n_threads = 2});
    std::vector<TokenId> six = {1, 400, 401, 402, 403, 404};
    ctx.decode(six);
    EXPECT_EQ(ctx.n_past(), 6u);
    std::vector<TokenId> three = {5, 6, 7};
    try {
        ctx.decode(three);
        FAIL() << "expected context full";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfRange);
        EXPECT_NE(std::string(e.what()).find("context full"), std::string::npos) << e.what();
    }
    EXPECT_EQ(ctx.n_past(), 6u);
    std::vector<TokenId> bad = {5, static_cast<TokenId>(m->hparams().n_vocab)};
    EXPECT_THROW(ctx.decode(bad), Error);
    std::vector<TokenId> negative = {-1};
    EXPECT_THROW(ctx.decode(negative), Error);
    EXPECT_EQ(ctx.n_past(), 6u);
    std::vector<TokenId> two = {5, 6};
    EXPECT_NO_THROW(ctx.decode(two));
    EXPECT_EQ(ctx.n_past(), 8u);
}

TEST(Context, TruncateReusesThePrefixExactly) {
    auto m = stories();
    std::vector<TokenId> ids = prompt(*m);
    Context fresh(m, {.n_ctx = 256, .n_batch = 8, .n_threads = 2});
    std::span<const float> l = fresh.decode(ids);
    std::vector<float> want(l.begin(), l.end());

    Context reused(m, {.n_ctx = 256, .n_batch = 8, .n_threads = 2});
    std::vector<TokenId> other = ids;
    other.resize(10);
    other.push_back(300);
    other.push_back(301);
    reused.decode(other);
    reused.truncate(10);
    EXPECT_EQ(reused.n_past(), 10u);
    std::span<const float> got = reused.decode(std::span<const TokenId>(ids).subspan(10));
    EXPECT_EQ(std::vector<float>(got.begin(), got.end()), want);
}

TEST(Context, KvCacheTypesAreUsedAndSized) {
    // stories260K has 8-wide heads: Q8_0 (blocks of 32) cannot hold them.
    auto m = stories();
    EXPECT_THROW(Context(m, {.n_ctx = 16, .kv_type = gguf::GgmlType::Q8_0}), Error);
    EXPECT_THROW(Context(m, {.n_ctx = 16, .kv_type = gguf::GgmlType::Q4_0}), Error);
    std::vector<TokenId> ids = prompt(*m);
    Context f16(m, {.n_ctx = 256, .n_threads = 2});
    Context f32(m, {.n_ctx = 256, .n_threads = 2, .kv_type = gguf::GgmlType::F32});
    EXPECT_EQ(f16.kv_type(), gguf::GgmlType::F16);
    EXPECT_EQ(f32.kv_bytes(), 2 * f16.kv_bytes());
    const auto& h = m->hparams();
    EXPECT_EQ(f16.kv_bytes(), size_t{2} * h.n_layer * 256 * (h.n_embd_k() + h.n_embd_v()));
    std::span<const float> a = f16.decode(ids);
    std::vector<float> la(a.begin(), a.end());
    std::span<const float> b = f32.decode(ids);
    // Same model, different cache rounding: close but not identical.
    EXPECT_NE(la, std::vector<float>(b.begin(), b.end()));
    float max_diff = 0.0f;
    for (size_t i = 0; i < la.size(); ++i) max_diff = std::max(max_diff, std::fabs(la[i] - b[i]));
    EXPECT_LT(max_diff, 0.05f);
}

TEST(Context, RejectsZeroSizes) {
    auto m = stories();
    EXPECT_THROW(Context(m, {.n_ctx = 0}), Error);
    EXPECT_THROW(Context(m, {.n_ctx = 8, .n_batch = 0}), Error);
    EXPECT_THROW(Context(m, {.n_ctx = 8, .n_seq = 0}), Error);
}

// Three sequences decoded together, their tokens interleaved in mixed batches (one
// sequence's whole prompt chunk beside single tokens of the others), give each sequence
// exactly the logits it gets alone: a token's result depends only on its own sequence.
TEST(Context, MixedSequenceBatchesMatchEachSequenceAlone) {
    auto m = stories();
    const size_t n_vocab = m->hparams().n_vocab;
    const std::vector<std::vector<TokenId>> prompts = {
        prompt(*m), m->tokenizer().encode("The cat sat on the mat and looked at the bird.", true, false),
        m->tokenizer().encode("Tom had a red ball. He threw it high", true, false)};
    std::vector<std::vector<std::vector<float>>> alone;
    for (const auto& p : prompts) alone.push_back(step_by_step(m, p));

    Context ctx(m, {.n_ctx = 256, .n_batch = 5, .n_threads = 2, .n_seq = 4});
    // Round-robin entries: sequence 0 goes two tokens at a time, others one.
    std::vector<BatchEntry> entries;
    std::vector<std::pair<size_t, size_t>> where;  // (sequence, token index) of each logits row
    std::vector<size_t> next(prompts.size(), 0);
    for (bool more = true; more;) {
        more = false;
        for (size_t s = 0; s < prompts.size(); ++s) {
            for (size_t k = 0; k < (s == 0 ? 2u : 1u) && next[s] < prompts[s].size(); ++k) {
                entries.push_back({prompts[s][next[s]], static_cast<uint32_t>(s + 1), true});
                where.emplace_back(s, next[s]++);
                more = true;
            }
        }
    }
    std::span<const float> out = ctx.decode_batch(entries);
    ASSERT_EQ(out.size(), where.size() * n_vocab);
    for (size_t r = 0; r < where.size(); ++r) {
        const auto [s, t] = where[r];
        for (size_t v = 0; v < n_vocab; ++v) {
            ASSERT_EQ(out[r * n_vocab + v], alone[s][t][v]) << "sequence " << s << " token " << t << " logit " << v;
        }
    }
    EXPECT_EQ(ctx.n_past(0), 0u);
    for (size_t s = 0; s < prompts.size(); ++s) EXPECT_EQ(ctx.n_past(static_cast<uint32_t>(s + 1)), prompts[s].size());

    // Only the rows asked for come back, in entry order.
    ctx.truncate(1, 3);
    ctx.truncate(2, 3);
    std::vector<BatchEntry> two = {{prompts[0][3], 1, false}, {prompts[1][3], 2, true}, {prompts[0][4], 1, true}};
    out = ctx.decode_batch(two);
    ASSERT_EQ(out.size(), 2 * n_vocab);
    EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + n_vocab), alone[1][3]);
    EXPECT_EQ(std::vector<float>(out.begin() + n_vocab, out.end()), alone[0][4]);
}

TEST(Context, BadBatchesLeaveEverySequenceUnchanged) {
    auto m = stories();
    Context ctx(m, {.n_ctx = 4, .n_batch = 2, .n_threads = 1, .n_seq = 2});
    std::vector<BatchEntry> fill = {{1, 0, false}, {400, 0, false}, {401, 0, true}};
    ctx.decode_batch(fill);
    EXPECT_EQ(ctx.n_past(0), 3u);
    // Sequence 0 would pass n_ctx: nothing of the batch happens, sequence 1 included.
    std::vector<BatchEntry> over = {{1, 1, false}, {402, 0, false}, {403, 0, true}};
    EXPECT_THROW(ctx.decode_batch(over), Error);
    std::vector<BatchEntry> bad_seq = {{1, 1, false}, {402, 2, true}};
    EXPECT_THROW(ctx.decode_batch(bad_seq), Error);
    std::vector<BatchEntry> bad_token = {{1, 1, false}, {-5, 0, true}};
    EXPECT_THROW(ctx.decode_batch(bad_token), Error);
    EXPECT_EQ(ctx.n_past(0), 3u);
    EXPECT_EQ(ctx.n_past(1), 0u);
}

TEST(Context, EmbeddingIsTheNormalisedMeanAndLeavesOtherSequencesAlone) {
    auto m = stories();
    std::vector<TokenId> ids = prompt(*m);
    Context a(m, {.n_ctx = 256, .n_batch = 64, .n_threads = 2, .n_seq = 2});
    Context b(m, {.n_ctx = 256, .n_batch = 3, .n_threads = 1, .n_seq = 2});
    a.decode(ids);
    std::span<const float> ea = a.embed(ids, 1);
    std::vector<float> va(ea.begin(), ea.end());
    ASSERT_EQ(va.size(), m->hparams().n_embd);
    double norm = 0.0;
    for (float x : va) norm += double{x} * x;
    EXPECT_NEAR(norm, 1.0, 1e-5);
    std::span<const float> eb = b.embed(ids, 0);
    // Batches of 3 vs 64 give identical hidden states; only the double sum's order is fixed too.
    EXPECT_EQ(va, std::vector<float>(eb.begin(), eb.end()));
    EXPECT_EQ(b.n_past(0), 0u);
    std::vector<TokenId> other = m->tokenizer().encode("A dog ran.", true, false);
    std::span<const float> eo = a.embed(other, 1);
    EXPECT_NE(std::vector<float>(eo.begin(), eo.end()), va);
    EXPECT_THROW(a.embed({}, 1), Error);
    EXPECT_THROW(a.embed(ids, 2), Error);
    // Sequence 0 of `a` kept its state: one more token continues it as if never interrupted.
    EXPECT_EQ(a.n_past(0), ids.size());
    const TokenId more = 300;
    std::span<const float> cont = a.decode(std::span<const TokenId>(&more, 1));
    std::vector<TokenId> longer = ids;
    longer.push_back(more);
    Context fresh(m, {.n_ctx = 256, .n_batch = 64, .n_threads = 2});
    std::span<const float> want = fresh.decode(longer);
    EXPECT_EQ(std::vector<float>(cont.begin(), cont.end()), std::vector<float>(want.begin(), want.end()));
}

}  // namespace
}  // namespace loom::runtime

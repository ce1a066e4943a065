// Scheduler: continuous batching gives each request what it gets alone, prefixes are
// reused, cancellation frees the slot within a step, the queue bound holds, stop
// strings and max_tokens end jobs as documented, embeddings and drain work.
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "core/error.h"
#include "test_util.h"

namespace loom::server {
namespace {

std::shared_ptr<const model::Model> stories() {
    return model::Model::load(test::fixture("stories260K.gguf"));
}

struct Outcome {
    std::string text;
    GenerationDone done;
    size_t deltas = 0;
};

// A job whose result arrives through a future.
struct Pending {
    std::shared_ptr<GenerationJob> job;
    std::shared_ptr<Outcome> out = std::make_shared<Outcome>();
    std::shared_ptr<std::promise<void>> finished = std::make_shared<std::promise<void>>();
    std::future<void> ready = finished->get_future();
};

Pending make(const std::string& prompt, uint32_t max_tokens, std::vector<std::string> stop = {}) {
    Pending p;
    p.job = std::make_shared<GenerationJob>();
    p.job->prompt = stories()->tokenizer().encode(prompt, true, false);
    p.job->sampling.temperature = 0.0f;  // greedy
    p.job->max_tokens = max_tokens;
    p.job->stop = std::move(stop);
    auto out = p.out;
    auto finished = p.finished;
    p.job->on_delta = [out](const GenerationDelta& d) {
        out->text += d.text;
        ++out->deltas;
    };
    p.job->on_done = [out, finished](const GenerationDone& d) {
        out->done = d;
        finished->set_value();
    };
    return p;
}

Outcome wait(Pending& p) {
    EXPECT_EQ(p.ready.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    return *p.out;
}

Outcome run_alone(const std::string& prompt, uint32_t max_tokens) {
    Scheduler s(stories(), {.n_slots = 1, .n_ctx = 256, .n_threads = 1});
    Pending p = make(prompt, max_tokens);
    EXPECT_TRUE(s.submit(p.job));
    return wait(p);
}

const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog", "Lily and Tom went to the park",
                                           "One day, a bird"};

TEST(Scheduler, ConcurrentRequestsGetTheirSoloAnswers) {
    std::vector<Outcome> alone;
    for (const auto& p : kPrompts) alone.push_back(run_alone(p, 24));
    // Two slots for four requests: two wait in the queue and start as slots free up.
    Scheduler s(stories(), {.n_slots = 2, .n_ctx = 256, .n_batch = 8, .step_tokens = 5, .n_threads = 2});
    std::vector<Pending> jobs;
    for (const auto& p : kPrompts) jobs.push_back(make(p, 24));
    for (auto& j : jobs) ASSERT_TRUE(s.submit(j.job));
    for (size_t i = 0; i < jobs.size(); ++i) {
        Outcome o = wait(jobs[i]);
        EXPECT_EQ(o.text, alone[i].text) << kPrompts[i];
        EXPECT_EQ(o.done.finish_reason, "length");
        EXPECT_EQ(o.done.completion_tokens, 24u);
        EXPECT_EQ(o.done.prompt_tokens, jobs[i].job->prompt.size());
    }
    // Counters move just after the last on_done: wait for them (bounded).
    SchedulerStats st = s.stats();
    for (int i = 0; i < 1000 && (st.jobs_done < 4 || st.generated_tokens < 96); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        st = s.stats();
    }
    EXPECT_EQ(st.slots_active, 0u);
    EXPECT_EQ(st.queue_depth, 0u);
    EXPECT_EQ(st.jobs_done, 4u);
    EXPECT_EQ(st.generated_tokens, 4u * 24u);
}

TEST(Scheduler, ReusesTheSlotsPrefixAndAnswersTheSame) {
    const std::string first = "Once upon a time, there was a little girl named Lily.";
    const std::string second = first + " She liked";
    Outcome fresh = run_alone(second, 16);
    Scheduler s(stories(), {.n_slots = 2, .n_ctx = 256, .n_threads = 2});
    Pending a = make(first, 4);
    ASSERT_TRUE(s.submit(a.job));
    wait(a);
    Pending b = make(second, 16);
    ASSERT_TRUE(s.submit(b.job));
    Outcome o = wait(b);
    EXPECT_EQ(o.text, fresh.text);
    // Everything the first request evaluated that the second shares is reused: its whole
    // prompt, and its generated tokens as far as the second prompt repeats them.
    EXPECT_GE(o.done.cached_tokens, a.job->prompt.size());
    EXPECT_LT(o.done.cached_tokens, b.job->prompt.size());
    EXPECT_EQ(fresh.done.cached_tokens, 0u);
}

TEST(Scheduler, CancellationFreesTheSlotWithinAStep) {
    Scheduler s(stories(), {.n_slots = 1, .n_ctx = 256, .n_threads = 1});
    Pending p = make("Once upon a time", 0);  // until the context is full
    auto flag = std::make_shared<std::atomic<bool>>(false);
    p.job->cancelled = [flag] { return flag->load(); };
    auto out = p.out;
    p.job->on_delta = [out, flag](const GenerationDelta& d) {
        out->text += d.text;
        if (++out->deltas == 3) flag->store(true);  // the client goes away after 3 pieces
    };
    ASSERT_TRUE(s.submit(p.job));
    Outcome o = wait(p);
    EXPECT_EQ(o.done.finish_reason, "cancelled");
    EXPECT_LE(o.done.completion_tokens, 5u);
    // The only slot is free again: the next request runs.
    Pending next = make("The little dog", 4);
    ASSERT_TRUE(s.submit(next.job));
    EXPECT_EQ(wait(next).done.finish_reason, "length");
}

TEST(Scheduler, QueueBoundRefusesAndStopStringsCut) {
    Outcome alone = run_alone("Once upon a time", 24);
    ASSERT_GT(alone.text.size(), 12u);
    const std::string stop = alone.text.substr(8, 4);
    const size_t cut = alone.text.find(stop);

    Scheduler s(stories(), {.n_slots = 1, .n_ctx = 256, .n_threads = 1, .max_queue = 1});
    Pending a = make("Once upon a time", 24, {stop});
    Pending b = make("The little dog", 8);
    Pending c = make("One day", 8);
    ASSERT_TRUE(s.submit(a.job));
    // a may still be waiting or already running: the queue takes one more, never three.
    const bool b_ok = s.submit(b.job);
    const bool c_ok = s.submit(c.job);
    EXPECT_FALSE(b_ok && c_ok);
    Outcome o = wait(a);
    EXPECT_EQ(o.done.finish_reason, "stop");
    EXPECT_EQ(o.text, alone.text.substr(0, cut));
    if (b_ok) wait(b);
    if (c_ok) wait(c);
}

TEST(Scheduler, RefusesPromptsThatCannotRun) {
    Scheduler s(stories(), {.n_slots = 1, .n_ctx = 16, .n_threads = 1});
    Pending empty = make("", 4);
    empty.job->prompt.clear();
    EXPECT_THROW(s.submit(empty.job), Error);
    Pending big = make("Once upon a time there was a girl who liked to play with her dog in the park", 4);
    ASSERT_GT(big.job->prompt.size(), 16u);
    EXPECT_THROW(s.submit(big.job), Error);
    Pending bad = make("Once", 4);
    bad.job->prompt.push_back(-3);
    EXPECT_THROW(s.submit(bad.job), Error);
    Pending bias = make("Once", 4);
    bias.job->sampling.logit_bias.push_back({1 << 20, 1.0f});
    EXPECT_THROW(s.submit(bias.job), Error);
    // A prompt that fills the context generates what fits, then "length".
    Pending full = make("Once upon a time there was", 0);
    Outcome o;
    ASSERT_TRUE(s.submit(full.job));
    o = wait(full);
    EXPECT_EQ(o.done.finish_reason, "length");
    EXPECT_EQ(o.done.prompt_tokens + o.done.completion_tokens, 17u);  // 16 evaluated + the last sampled
}

TEST(Scheduler, EmbeddingsAreUnitVectorsAndDrainFinishesWork) {
    Scheduler s(stories(), {.n_slots = 1, .n_ctx = 128, .n_threads = 1});
    Pending gen = make("Once upon a time", 16);
    ASSERT_TRUE(s.submit(gen.job));
    auto job = std::make_shared<EmbeddingJob>();
    job->inputs = {stories()->tokenizer().encode("A cat.", true, false),
                   stories()->tokenizer().encode("A dog ran in the park.", true, false)};
    std::promise<std::vector<std::vector<float>>> result;
    job->on_result = [&](std::vector<std::vector<float>> v) { result.set_value(std::move(v)); };
    job->on_error = [&](std::string e) { ADD_FAILURE() << e; };
    ASSERT_TRUE(s.submit(job));
    auto vectors = result.get_future().get();
    ASSERT_EQ(vectors.size(), 2u);
    for (const auto& v : vectors) {
        ASSERT_EQ(v.size(), stories()->hparams().n_embd);
        double norm = 0.0;
        for (float x : v) norm += double{x} * x;
        EXPECT_NEAR(norm, 1.0, 1e-5);
    }
    EXPECT_NE(vectors[0], vectors[1]);
    EXPECT_TRUE(s.drain(std::chrono::seconds(30)));
    EXPECT_EQ(gen.ready.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(gen.out->done.finish_reason, "length");
    // Draining: new work is refused.
    Pending late = make("Hello", 2);
    EXPECT_FALSE(s.submit(late.job));
}

}  // namespace
}  // namespace loom::server

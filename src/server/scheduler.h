// Scheduler: the one thread that owns the model's Context (KV cache of every slot) and
// runs continuous batching for the server (STYLE.md §5, the llama.cpp server pattern).
// HTTP workers parse, template and tokenize, then submit a GenerationJob; the scheduler
// admits it into a free slot, and every step evaluates one batch holding the next token
// of every generating slot plus a chunk of each newly admitted prompt, so a new request
// starts at the next step without waiting for the others to finish.
//
//   Scheduler scheduler(model, {.n_slots = 4, .n_ctx = 4096});
//   auto job = std::make_shared<GenerationJob>();  job->prompt = ids;  job->on_delta = …;
//   if (!scheduler.submit(job)) reply 503;      // queue full
//
// Slots and prefix reuse: each slot is one sequence of the Context and remembers the
// tokens its KV cache holds. A job goes to the free slot whose cache shares the longest
// prefix with its prompt (least recently used on ties); only the rest of the prompt is
// evaluated, so a multi-turn chat does not re-process its history.
//
// Text: each sampled token's piece goes through a UTF-8 stream decoder and the stop-
// string matcher before on_delta sees it, so deltas are whole characters and never
// show a stop string, even in part. Finish reasons: "stop" (end-of-generation token or
// a stop string), "length" (max_tokens or the slot's context is full), "cancelled"
// (the job's cancelled() turned true: checked every step, the slot is freed at once),
// "error" (a decode failure; the message is in GenerationDone::error).
//
// Embeddings run on the scheduler thread between steps in a sequence of their own.
//
// Threads: this class owns one std::thread, the model's owner (like HttpServer's I/O
// thread, an owner loop rather than compute); the forward pass runs on the Context's
// ThreadPool. Callbacks run on the scheduler thread and must be quick (format, queue
// bytes to a Responder).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/model.h"
#include "runtime/context.h"
#include "runtime/grammar.h"
#include "runtime/token_trie.h"
#include "runtime/sampler.h"
#include "server/openai_types.h"

namespace loom::server {

using tokenizer::TokenId;

struct SchedulerParams {
    uint32_t n_slots = 4;         // requests generating at once
    uint32_t n_ctx = 4096;        // context of each slot, tokens
    uint32_t n_batch = 256;       // tokens per forward chunk (the Context's n_batch)
    uint32_t step_tokens = 256;   // tokens evaluated per step at most: prompts are chunked to it
    unsigned n_threads = 0;       // 0: the machine's hardware threads
    kernels::Isa isa = kernels::detect_isa();
    gguf::GgmlType kv_type = gguf::GgmlType::F16;
    size_t max_queue = 64;        // jobs waiting for a slot; submit() refuses beyond
};

// What a finished job reports, exactly once.
struct GenerationDone {
    std::string finish_reason;  // "stop", "length", "cancelled", "error"
    std::string error;          // for "error"
    uint32_t prompt_tokens = 0;
    uint32_t cached_tokens = 0;      // prompt tokens whose KV cache was reused
    uint32_t completion_tokens = 0;
};

// A piece of output: text safe to show, and the logprobs of the tokens it came from
// (when asked for; a token whose bytes end mid-character is reported with the delta
// that completes it).
struct GenerationDelta {
    std::string text;
    std::vector<TokenLogprob> logprobs;
};

struct GenerationJob {
    std::vector<TokenId> prompt;      // at least one token; fits in n_ctx (checked)
    runtime::SamplerParams sampling;
    uint32_t max_tokens = 0;          // 0: until the slot's context is full
    std::vector<std::string> stop;    // non-empty strings
    bool logprobs = false;
    uint32_t top_logprobs = 0;        // alternatives per token, with logprobs
    // Constrained decoding: every token must continue a sentence of the grammar. With a
    // trigger, generation is free until the generated text contains it (at the very
    // start only, with trigger_at_start); from there the grammar constrains the text
    // beginning at the trigger. A reply the grammar completes ends there ("stop").
    std::shared_ptr<const runtime::Grammar> grammar;
    std::string grammar_trigger;
    bool trigger_at_start = false;
    // Polled every step; true ends the job as "cancelled" (client gone).
    std::function<bool()> cancelled;
    std::function<void(const GenerationDelta&)> on_delta;
    std::function<void(const GenerationDone&)> on_done;
};

struct EmbeddingJob {
    std::vector<std::vector<TokenId>> inputs;  // each non-empty and within n_ctx
    // Exactly one is called: the vectors (n_embd floats each) or an error message.
    std::function<void(std::vector<std::vector<float>>)> on_result;
    std::function<void(std::string)> on_error;
};

// Counters and gauges for /metrics, read at any time.
struct SchedulerStats {
    uint64_t prompt_tokens = 0;     // evaluated (reused prefixes not counted)
    uint64_t generated_tokens = 0;
    uint64_t jobs_done = 0;
    double decode_seconds = 0.0;    // time in forward passes
    size_t queue_depth = 0;
    uint32_t slots_active = 0;
    uint32_t slots_total = 0;
    uint64_t kv_cells_used = 0;     // positions filled, summed over slots
    uint64_t kv_cells_total = 0;
};

class Scheduler {
public:
    // Creates the Context (n_slots sequences plus one for embeddings) and starts the
    // thread. Throws loom::Error for parameters the Context refuses.
    Scheduler(std::shared_ptr<const model::Model> model, const SchedulerParams& params);
    // Cancels what is left and joins the thread.
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Queues a job; false when the queue is full or the scheduler is draining (the caller
    // answers 503). Throws loom::Error(InvalidArgument) for an empty prompt, one that
    // does not fit in n_ctx, or a token outside the vocabulary.
    bool submit(std::shared_ptr<GenerationJob> job);
    bool submit(std::shared_ptr<EmbeddingJob> job);

    // Stops taking jobs and waits up to `grace` for queued and running ones to finish;
    // then cancels the rest. Returns true when everything finished in time.
    bool drain(std::chrono::milliseconds grace);

    SchedulerStats stats() const;
    const model::Model& model() const { return *model_; }
    uint32_t n_ctx() const { return params_.n_ctx; }
    size_t kv_bytes() const { return ctx_->kv_bytes(); }  // fixed at construction

private:
    struct Slot;
    void run();
    void admit(std::unique_lock<std::mutex>& lock);
    void step();
    void run_embeddings(std::vector<std::shared_ptr<EmbeddingJob>>& jobs);
    // A slot's next token (or the grammar's error), drawn on a pool thread.
    struct Draw {
        TokenId id = tokenizer::kNoToken;
        std::string error;
    };
    static Draw draw(Slot& slot, std::span<const float> logits) noexcept;
    // Ends the job or queues the token: EOG, stop strings, max_tokens, text out.
    void sample_slot(Slot& slot, std::span<const float> logits, const Draw& draw);
    // Watches a lazily constrained slot's output for its trigger; starts the grammar there.
    void trigger(Slot& slot, const std::string& piece);
    void finish(Slot& slot, std::string reason, std::string error = {});
    void check_prompt(const std::vector<TokenId>& tokens) const;

    std::shared_ptr<const model::Model> model_;
    SchedulerParams params_;
    std::shared_ptr<const runtime::TokenTrie> trie_;  // built with the first grammar job
    std::unique_ptr<runtime::Context> ctx_;  // used by the scheduler thread only
    std::vector<std::unique_ptr<Slot>> slots_;
    uint64_t clock_ = 0;  // step counter, for least-recently-used slot choice
    std::vector<Draw> draws_;  // per logits row of a step

    std::mutex trie_mutex_;  // guards trie_ while it is built (then it is only read)
    mutable std::mutex mutex_;
    std::condition_variable wake_;   // new work or stop
    std::condition_variable idle_;   // a job finished (drain waits on it)
    std::deque<std::shared_ptr<GenerationJob>> queue_;
    std::vector<std::shared_ptr<EmbeddingJob>> embed_queue_;
    bool accepting_ = true;
    bool embeds_running_ = false;  // embedding jobs taken off the queue, not yet answered
    bool stopping_ = false;
    SchedulerStats stats_;  // guarded by mutex_
    std::thread thread_;
};

}  // namespace loom::server

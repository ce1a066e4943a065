// The scheduler loop: admission into slots with prefix reuse, one mixed batch per step
// (a token of every generating slot, then prompt chunks), sampling, stop strings,
// cancellation, embeddings between steps.
#include "server/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "runtime/stop_strings.h"

namespace loom::server {

struct Scheduler::Slot {
    uint32_t seq = 0;
    std::shared_ptr<GenerationJob> job;       // null: the slot is free
    std::unique_ptr<runtime::Sampler> sampler;
    std::unique_ptr<runtime::StopMatcher> stop;
    tokenizer::StreamDecoder decoder;
    std::vector<TokenId> cached;              // tokens in this sequence's KV cache, in order
    size_t prompt_next = 0;                   // next prompt token to evaluate
    bool generating = false;                  // the prompt is in; `next` goes in next step
    TokenId next = 0;
    uint32_t generated = 0;
    uint32_t reused = 0;
    uint64_t last_used = 0;
    std::vector<TokenLogprob> logprobs;       // of tokens whose text has not gone out yet
};

namespace {

size_t common_prefix(const std::vector<TokenId>& a, const std::vector<TokenId>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

// log p(id) under the model's distribution (the raw logits, before any sampling
// transform), and the most likely alternatives.
TokenLogprob logprob_of(const tokenizer::Tokenizer& tok, std::span<const float> logits, TokenId id,
                        uint32_t top_n) {
    float max = -std::numeric_limits<float>::infinity();
    for (float l : logits) max = std::max(max, l);
    double sum = 0.0;
    for (float l : logits) sum += std::exp(static_cast<double>(l - max));
    const auto lse = static_cast<float>(max + std::log(sum));
    TokenLogprob out;
    out.token = tok.piece(id, false);
    out.logprob = logits[static_cast<size_t>(id)] - lse;
    if (top_n > 0) {
        // A running top-n list: n is at most 20, the vocabulary up to a few 100k.
        std::vector<std::pair<float, TokenId>> best;
        for (size_t i = 0; i < logits.size(); ++i) {
            if (best.size() == top_n && logits[i] <= best.back().first) continue;
            auto pos = std::upper_bound(best.begin(), best.end(), logits[i],
                                        [](float v, const auto& e) { return v > e.first; });
            best.insert(pos, {logits[i], static_cast<TokenId>(i)});
            if (best.size() > top_n) best.pop_back();
        }
        for (const auto& [l, t] : best) out.top.emplace_back(tok.piece(t, false), l - lse);
    }
    return out;
}

}  // namespace

Scheduler::Scheduler(std::shared_ptr<const model::Model> model, const SchedulerParams& params)
    : model_(std::move(model)), params_(params) {
    if (params_.n_slots == 0) throw Error(ErrorCode::InvalidArgument, "the server needs at least one slot");
    if (params_.step_tokens < params_.n_slots) params_.step_tokens = params_.n_slots;
    // One sequence per slot, plus the last one for embeddings.
    ctx_ = std::make_unique<runtime::Context>(model_, runtime::ContextParams{.n_ctx = params_.n_ctx,
                                                                               .n_batch = params_.n_batch,
                                                                               .n_threads = params_.n_threads,
                                                                               .isa = params_.isa,
                                                                               .kv_type = params_.kv_type,
                                                                               .n_seq = params_.n_slots + 1});
    for (uint32_t s = 0; s < params_.n_slots; ++s) {
        slots_.push_back(std::make_unique<Slot>());
        slots_.back()->seq = s;
    }
    stats_.slots_total = params_.n_slots;
    stats_.kv_cells_total = uint64_t{params_.n_slots} * params_.n_ctx;
    thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        accepting_ = false;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Scheduler::check_prompt(const std::vector<TokenId>& tokens) const {
    if (tokens.empty()) throw Error(ErrorCode::InvalidArgument, "the prompt is empty");
    if (tokens.size() > params_.n_ctx) {
        throw Error(ErrorCode::OutOfRange, "the prompt has " + std::to_string(tokens.size()) +
                                               " tokens, more than the context of " + std::to_string(params_.n_ctx));
    }
    const uint32_t n_vocab = model_->hparams().n_vocab;
    for (TokenId t : tokens) {
        if (t < 0 || static_cast<uint32_t>(t) >= n_vocab) {
            throw Error(ErrorCode::InvalidArgument,
                        "token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(n_vocab));
        }
    }
}

bool Scheduler::submit(std::shared_ptr<GenerationJob> job) {
    check_prompt(job->prompt);
    // The sampler and stop matcher are checked here, on the caller's thread, so that bad
    // parameters become the caller's 400 rather than a failed job.
    runtime::Sampler probe(job->sampling, {.n_vocab = model_->hparams().n_vocab, .n_ctx = params_.n_ctx});
    runtime::StopMatcher stop_probe(job->stop);
    {
        std::lock_guard lock(mutex_);
        if (!accepting_ || queue_.size() >= params_.max_queue) return false;
        queue_.push_back(std::move(job));
        stats_.queue_depth = queue_.size();
    }
    wake_.notify_all();
    return true;
}

bool Scheduler::submit(std::shared_ptr<EmbeddingJob> job) {
    if (job->inputs.empty()) throw Error(ErrorCode::InvalidArgument, "no input to embed");
    for (const auto& in : job->inputs) check_prompt(in);
    {
        std::lock_guard lock(mutex_);
        if (!accepting_ || embed_queue_.size() >= params_.max_queue) return false;
        embed_queue_.push_back(std::move(job));
    }
    wake_.notify_all();
    return true;
}

bool Scheduler::drain(std::chrono::milliseconds grace) {
    std::unique_lock lock(mutex_);
    accepting_ = false;
    const bool done = idle_.wait_for(lock, grace, [&] {
        return queue_.empty() && embed_queue_.empty() && !embeds_running_ && stats_.slots_active == 0;
    });
    stopping_ = true;
    lock.unlock();
    wake_.notify_all();
    return done;
}

SchedulerStats Scheduler::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void Scheduler::admit(std::unique_lock<std::mutex>&) {
    while (!queue_.empty()) {
        std::shared_ptr<GenerationJob> job = queue_.front();
        if (job->cancelled && job->cancelled()) {
            queue_.pop_front();
            GenerationDone done;
            done.finish_reason = "cancelled";
            done.prompt_tokens = static_cast<uint32_t>(job->prompt.size());
            if (job->on_done) job->on_done(done);
            continue;
        }
        // The free slot sharing the longest prefix with the prompt; least recently used on ties.
        Slot* best = nullptr;
        size_t best_prefix = 0;
        for (auto& s : slots_) {
            if (s->job) continue;
            const size_t p = common_prefix(s->cached, job->prompt);
            if (best == nullptr || p > best_prefix || (p == best_prefix && s->last_used < best->last_used)) {
                best = s.get();
                best_prefix = p;
            }
        }
        if (best == nullptr) return;
        queue_.pop_front();
        Slot& slot = *best;
        // At least the last prompt token is evaluated again: its logits start the reply.
        const size_t keep = std::min(best_prefix, job->prompt.size() - 1);
        ctx_->truncate(slot.seq, static_cast<uint32_t>(keep));
        slot.cached.resize(keep);
        slot.prompt_next = keep;
        slot.reused = static_cast<uint32_t>(keep);
        slot.generating = false;
        slot.generated = 0;
        slot.logprobs.clear();
        slot.decoder = tokenizer::StreamDecoder();
        slot.sampler = std::make_unique<runtime::Sampler>(
            job->sampling, runtime::SamplerLimits{.n_vocab = model_->hparams().n_vocab, .n_ctx = params_.n_ctx});
        for (TokenId id : job->prompt) slot.sampler->accept(id);  // penalties see the prompt
        slot.stop = std::make_unique<runtime::StopMatcher>(job->stop);
        slot.last_used = ++clock_;
        slot.job = std::move(job);
        ++stats_.slots_active;  // under the lock with the queue: drain never sees a job in neither
    }
    stats_.queue_depth = queue_.size();
}

void Scheduler::run() {
    std::vector<std::shared_ptr<EmbeddingJob>> embeds;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            const auto active = [&] {
                return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->job != nullptr; });
            };
            const auto free = [&] {
                return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->job == nullptr; });
            };
            wake_.wait(lock, [&] {
                return stopping_ || !embed_queue_.empty() || active() || (!queue_.empty() && free());
            });
            if (stopping_) {
                // Whatever is left is cancelled: queued jobs and running ones.
                std::deque<std::shared_ptr<GenerationJob>> left;
                left.swap(queue_);
                std::vector<std::shared_ptr<EmbeddingJob>> left_embeds;
                left_embeds.swap(embed_queue_);
                lock.unlock();
                for (auto& s : slots_) {
                    if (s->job) finish(*s, "cancelled");
                }
                for (auto& j : left) {
                    GenerationDone done;
                    done.finish_reason = "cancelled";
                    done.prompt_tokens = static_cast<uint32_t>(j->prompt.size());
                    if (j->on_done) j->on_done(done);
                }
                for (auto& j : left_embeds) {
                    if (j->on_error) j->on_error("the server is shutting down");
                }
                lock.lock();
                stats_.queue_depth = 0;
                stats_.slots_active = 0;
                idle_.notify_all();
                return;
            }
            admit(lock);
            embeds.swap(embed_queue_);
            embeds_running_ = !embeds.empty();
        }
        if (!embeds.empty()) {
            run_embeddings(embeds);
            std::lock_guard lock(mutex_);
            embeds_running_ = false;
        }
        step();
        std::lock_guard lock(mutex_);
        uint64_t cells = 0;
        for (const auto& s : slots_) cells += ctx_->n_past(s->seq);
        stats_.kv_cells_used = cells;
    }
}

void Scheduler::run_embeddings(std::vector<std::shared_ptr<EmbeddingJob>>& jobs) {
    const uint32_t seq = params_.n_slots;  // the embeddings' own sequence
    for (auto& job : jobs) {
        std::vector<std::vector<float>> out;
        uint64_t tokens = 0;
        try {
            for (const auto& in : job->inputs) {
                std::span<const float> e = ctx_->embed(in, seq);
                out.emplace_back(e.begin(), e.end());
                tokens += in.size();
            }
        } catch (const std::exception& e) {
            if (job->on_error) job->on_error(e.what());
            continue;
        }
        {
            std::lock_guard lock(mutex_);
            stats_.prompt_tokens += tokens;
        }
        if (job->on_result) job->on_result(std::move(out));
    }
    jobs.clear();
}

void Scheduler::step() {
    // Clients gone: their slots are free before this step's batch is built.
    for (auto& s : slots_) {
        if (s->job && s->job->cancelled && s->job->cancelled()) finish(*s, "cancelled");
    }
    std::vector<runtime::BatchEntry> entries;
    std::vector<Slot*> rows;  // the slot of each logits row, in entry order
    for (auto& s : slots_) {
        if (!s->job || !s->generating) continue;
        entries.push_back({s->next, s->seq, true});
        rows.push_back(s.get());
    }
    size_t budget = params_.step_tokens > entries.size() ? params_.step_tokens - entries.size() : 0;
    std::vector<std::pair<Slot*, size_t>> prompt_chunks;  // slot, tokens taken this step
    for (auto& s : slots_) {
        if (!s->job || s->generating || budget == 0) continue;
        const std::vector<TokenId>& p = s->job->prompt;
        const size_t take = std::min(budget, p.size() - s->prompt_next);
        for (size_t i = 0; i < take; ++i) {
            const bool last = s->prompt_next + i + 1 == p.size();
            entries.push_back({p[s->prompt_next + i], s->seq, last});
        }
        if (s->prompt_next + take == p.size()) rows.push_back(s.get());
        prompt_chunks.emplace_back(s.get(), take);
        budget -= take;
    }
    if (entries.empty()) return;

    std::span<const float> logits;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        logits = ctx_->decode_batch(entries);
    } catch (const std::exception& e) {
        // Nothing was evaluated (decode_batch refuses whole batches): end every job in it.
        for (Slot* s : rows) finish(*s, "error", e.what());
        for (auto& [s, take] : prompt_chunks) {
            if (s->job) finish(*s, "error", e.what());
        }
        return;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    uint64_t prompt_evaluated = 0;
    for (auto& [s, take] : prompt_chunks) {
        const std::vector<TokenId>& p = s->job->prompt;
        s->cached.insert(s->cached.end(), p.begin() + static_cast<std::ptrdiff_t>(s->prompt_next),
                         p.begin() + static_cast<std::ptrdiff_t>(s->prompt_next + take));
        s->prompt_next += take;
        prompt_evaluated += take;
    }
    uint64_t generated = 0;
    const size_t n_vocab = model_->hparams().n_vocab;
    for (size_t r = 0; r < rows.size(); ++r) {
        Slot& s = *rows[r];
        if (s.generating) s.cached.push_back(s.next);
        s.generating = true;
        sample_slot(s, logits.subspan(r * n_vocab, n_vocab));
        ++generated;
    }
    std::lock_guard lock(mutex_);
    stats_.prompt_tokens += prompt_evaluated;
    stats_.generated_tokens += generated;
    stats_.decode_seconds += seconds;
}

void Scheduler::sample_slot(Slot& s, std::span<const float> logits) {
    const tokenizer::Tokenizer& tok = model_->tokenizer();
    const GenerationJob& job = *s.job;
    const TokenId id = s.sampler->sample(logits);
    if (tok.vocab().is_eog(id)) {
        finish(s, "stop");
        return;
    }
    s.sampler->accept(id);
    ++s.generated;
    if (job.logprobs) s.logprobs.push_back(logprob_of(tok, logits, id, job.top_logprobs));
    std::string text = s.stop->push(s.decoder.push(tok.piece(id, false)));
    if (!text.empty() && job.on_delta) {
        job.on_delta(GenerationDelta{std::move(text), std::move(s.logprobs)});
        s.logprobs.clear();
    }
    if (s.stop->stopped()) {
        finish(s, "stop");
    } else if ((job.max_tokens != 0 && s.generated >= job.max_tokens) || ctx_->n_past(s.seq) >= params_.n_ctx) {
        // The sampled token is the last: max_tokens reached, or no room to evaluate it.
        finish(s, "length");
    } else {
        s.next = id;
    }
}

void Scheduler::finish(Slot& s, std::string reason, std::string error) {
    std::shared_ptr<GenerationJob> job = std::move(s.job);
    s.job = nullptr;
    s.generating = false;
    if (reason != "cancelled" && reason != "error" && !s.stop->stopped()) {
        // Text held back (a partial character or a partial stop string that never completed).
        std::string rest = s.stop->push(s.decoder.finish());
        rest += s.stop->finish();
        if ((!rest.empty() || !s.logprobs.empty()) && job->on_delta) {
            job->on_delta(GenerationDelta{std::move(rest), std::move(s.logprobs)});
        }
    }
    s.logprobs.clear();
    if (reason == "error") {
        // The sequence's cache is in an unknown state for reuse: forget it.
        ctx_->truncate(s.seq, 0);
        s.cached.clear();
    }
    GenerationDone done{.finish_reason = std::move(reason),
                        .error = std::move(error),
                        .prompt_tokens = static_cast<uint32_t>(job->prompt.size()),
                        .cached_tokens = s.reused,
                        .completion_tokens = s.generated};
    if (job->on_done) job->on_done(done);
    {
        // After on_done: a drain that sees no active slot knows every answer has been given.
        std::lock_guard lock(mutex_);
        ++stats_.jobs_done;
        --stats_.slots_active;
    }
    idle_.notify_all();
}

}  // namespace loom::server

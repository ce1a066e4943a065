// Context: the state of one sequence on a model — its KV cache, its thread pool and
// scratch buffers, reserved once at creation (nothing is allocated per token) — and the
// reference forward pass that evaluates tokens into logits.
//
//   Context ctx(model, {.n_ctx = 512, .n_threads = 4});
//   std::span<const float> logits = ctx.decode(prompt_ids);  // logits of the last token
//
// Several sequences (n_seq, each with n_ctx positions of its own KV cache) decode
// together in one batch: decode_batch takes (token, sequence) entries in any mix, each
// token appended to its own sequence, so a server evaluates one new token of every
// generating request and a chunk of a new request's prompt in the same forward pass.
// decode / decode_all / truncate / reset without a sequence act on sequence 0.
//
// Tokens are evaluated in batches of up to n_batch: each weight row is read once per
// batch and dotted with every token's activations (prompt processing), and matrix rows
// and attention heads are split over the pool's threads.
//
// Errors: decode throws loom::Error(OutOfRange) when the tokens do not fit in n_ctx
// (the caller decides whether to stop or shift) and InvalidArgument for a token id
// outside the vocabulary; the context is unchanged then.
#pragma once

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernel_set.h"
#include "kernels/reference.h"
#include "model/model.h"

namespace loom::runtime {

using tokenizer::TokenId;

struct ContextParams {
    uint32_t n_ctx = 4096;   // tokens the KV cache holds
    uint32_t n_batch = 256;  // tokens evaluated together
    unsigned n_threads = 0;  // 0: the machine's hardware threads
    kernels::Isa isa = kernels::detect_isa();  // Isa::Scalar: the reference kernels
    gguf::GgmlType kv_type = gguf::GgmlType::F16;  // KV cache type: F16, F32 or Q8_0
    uint32_t n_seq = 1;      // sequences, each with its own n_ctx positions of KV cache
};

// One token of a mixed batch: appended to sequence seq at that sequence's next position.
struct BatchEntry {
    TokenId token = 0;
    uint32_t seq = 0;
    bool logits = false;  // return the logits after this token
};

class Context {
public:
    Context(std::shared_ptr<const model::Model> model, const ContextParams& params);

    // Appends tokens to the sequence; returns the logits after the last one.
    std::span<const float> decode(std::span<const TokenId> tokens);
    // Appends tokens; returns the logits after each of them, tokens.size() rows of n_vocab.
    std::span<const float> decode_all(std::span<const TokenId> tokens);

    // Appends every entry's token to its sequence, in order (a sequence's tokens take its
    // next positions); returns the logits after each entry marked logits, in entry order
    // (rows of n_vocab). Throws OutOfRange when a sequence would pass n_ctx and
    // InvalidArgument for a bad token or sequence id; nothing is appended then.
    std::span<const float> decode_batch(std::span<const BatchEntry> entries);
    // Evaluates tokens as a fresh sequence seq (which is reset before and after) and
    // returns the mean over the tokens of the final-normed hidden states, L2-normalised
    // (n_embd floats): the sentence embedding the server's /v1/embeddings returns.
    std::span<const float> embed(std::span<const TokenId> tokens, uint32_t seq);

    void reset(uint32_t seq = 0) { n_past_.at(seq) = 0; }
    // Keeps the first n tokens of the sequence (their KV entries stay valid); later
    // tokens are forgotten. For reusing a shared prefix between turns.
    void truncate(uint32_t n) { truncate(0, n); }
    void truncate(uint32_t seq, uint32_t n) { n_past_.at(seq) = std::min(n_past_.at(seq), n); }

    uint32_t n_past(uint32_t seq = 0) const { return n_past_.at(seq); }
    uint32_t n_seq() const { return params_.n_seq; }
    uint32_t n_ctx() const { return params_.n_ctx; }
    gguf::GgmlType kv_type() const { return params_.kv_type; }
    // Bytes the KV cache holds (keys and values of every layer and position).
    size_t kv_bytes() const { return k_cache_.size() + v_cache_.size(); }
    unsigned n_threads() const { return pool_.size(); }
    // The context's threads, for work between forward passes (the server samples its
    // slots on them); not while a decode runs.
    ThreadPool& thread_pool() { return pool_; }
    const kernels::KernelSet& kernels() const { return kernels_; }
    const model::Model& model() const { return *model_; }

private:
    // Norm weights, biases and the shared-expert gate of a layer as floats, decoded once.
    struct LayerFloats {
        std::vector<float> attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm, attn_post_norm, ffn_post_norm,
            gate_inp_shexp;
    };
    // The RoPE of a kind of layer and its frequency factors.
    struct RopeSet {
        kernels::RopeParams params;
        std::vector<float> factors;
    };

    // What forward_batch writes for the tokens it is asked for.
    enum class Output { Logits, Hidden };

    void check_entries(std::span<const BatchEntry> entries) const;
    void check_tokens(std::span<const TokenId> tokens) const;
    // Throws OutOfRange when n more tokens do not fit in sequence seq.
    void check_fits(uint32_t seq, size_t n) const;
    // Evaluates the n tokens staged in batch_tok_ / batch_seq_ at their sequences' next
    // positions into the KV cache; writes, for each index in out_rows (ascending), its
    // logits (n_vocab floats) or final-normed hidden state (n_embd floats) to out, rows
    // one after another.
    void forward_batch(uint32_t n, std::span<const uint32_t> out_rows, Output what, float* out);
    // Stages tokens of one sequence and runs forward_batch on chunks of n_batch; the
    // out_rows given per chunk are chosen by all_rows (every token) or the last only.
    void decode_sequence(std::span<const TokenId> tokens, uint32_t seq, bool all_rows, float* out);
    void attention_block(uint32_t il, uint32_t n);
    void ffn_dense(const model::Tensor gate, const model::Tensor up, const model::Tensor down, uint32_t n,
                   const float* x, float* out);
    void ffn_moe(uint32_t il, uint32_t n, float* out);
    // y (n rows, y_stride apart) = W x (n rows of w.n_in floats, x_stride apart).
    void matmul(const kernels::Matrix& w, const float* x, size_t x_stride, uint32_t n, float* y, size_t y_stride);
    void rope_tables(uint32_t n);

    std::shared_ptr<const model::Model> model_;
    ContextParams params_;
    ThreadPool pool_;
    kernels::KernelSet kernels_;
    std::vector<uint32_t> n_past_;  // per sequence: positions filled
    // KV cache: [n_layer][n_seq][n_ctx][n_head_kv] head rows of keys and values in the
    // cache type (F16 by default, as llama.cpp's).
    const quant::QuantType* kv_ = nullptr;
    size_t k_head_bytes_ = 0, v_head_bytes_ = 0, q_head_bytes_ = 0;
    std::vector<uint8_t> k_cache_, v_cache_;
    std::vector<uint8_t> q_conv_;  // queries converted to the cache type's dot partner
    std::vector<float> v_rows_;    // per thread: one value head row as floats
    // Scratch for one batch of up to n_batch tokens, rows of the named width.
    // The batch being evaluated: token, sequence and position of each of up to n_batch.
    std::vector<TokenId> batch_tok_;
    std::vector<uint32_t> batch_seq_, batch_pos_, out_rows_;
    std::vector<float> x_, xn_, q_, k_, v_, qkv_, attn_, ffn_out_, gate_, up_, logits_, all_logits_, embedding_;
    std::vector<float> scores_;    // per thread: n_ctx attention weights
    std::vector<float> rope_cs_;   // per token: cos/sin tables, global then local layers
    std::vector<uint8_t> act_;     // activation rows converted to the weights' dot partner
    // Mixture of experts: router probabilities, chosen experts and weights per token,
    // tokens gathered per expert and their outputs per (token, slot).
    std::vector<float> router_, moe_w_, moe_x_, moe_out_;
    std::vector<uint32_t> moe_ids_, moe_rows_, moe_order_;
    std::vector<LayerFloats> layer_floats_;
    std::vector<float> output_norm_;
    std::vector<RopeSet> ropes_;  // [0] global layers, [1] local (sliding-window) layers
};

}  // namespace loom::runtime

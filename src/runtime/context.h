// Context: the state of one sequence on a model — its KV cache, its thread pool and
// scratch buffers, reserved once at creation (nothing is allocated per token) — and the
// reference forward pass that evaluates tokens into logits.
//
//   Context ctx(model, {.n_ctx = 512, .n_threads = 4});
//   std::span<const float> logits = ctx.decode(prompt_ids);  // logits of the last token
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
    uint32_t n_batch = 64;   // tokens evaluated together
    unsigned n_threads = 0;  // 0: the machine's hardware threads
    kernels::Isa isa = kernels::detect_isa();  // Isa::Scalar: the reference kernels
    gguf::GgmlType kv_type = gguf::GgmlType::F16;  // KV cache type: F16, F32 or Q8_0
};

class Context {
public:
    Context(std::shared_ptr<const model::Model> model, const ContextParams& params);

    // Appends tokens to the sequence; returns the logits after the last one.
    std::span<const float> decode(std::span<const TokenId> tokens);
    // Appends tokens; returns the logits after each of them, tokens.size() rows of n_vocab.
    std::span<const float> decode_all(std::span<const TokenId> tokens);

    void reset() { n_past_ = 0; }
    // Keeps the first n tokens of the sequence (their KV entries stay valid); later
    // tokens are forgotten. For reusing a shared prefix between turns.
    void truncate(uint32_t n) { n_past_ = std::min(n_past_, n); }

    uint32_t n_past() const { return n_past_; }
    uint32_t n_ctx() const { return params_.n_ctx; }
    gguf::GgmlType kv_type() const { return params_.kv_type; }
    // Bytes the KV cache holds (keys and values of every layer and position).
    size_t kv_bytes() const { return k_cache_.size() + v_cache_.size(); }
    unsigned n_threads() const { return pool_.size(); }
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

    void check_tokens(std::span<const TokenId> tokens) const;
    // Evaluates n tokens at positions n_past_.. into the KV cache; writes logits of every
    // token to out (n rows) when all_rows, else of the last token only.
    void forward_batch(const TokenId* tokens, uint32_t n, bool all_rows, float* out);
    void attention_block(uint32_t il, uint32_t n, uint32_t pos0);
    void ffn_dense(const model::Tensor gate, const model::Tensor up, const model::Tensor down, uint32_t n,
                   const float* x, float* out);
    void ffn_moe(uint32_t il, uint32_t n, float* out);
    // y (n rows, y_stride apart) = W x (n rows of w.n_in floats, x_stride apart).
    void matmul(const kernels::Matrix& w, const float* x, size_t x_stride, uint32_t n, float* y, size_t y_stride);
    void rope_tables(uint32_t n, uint32_t pos0);

    std::shared_ptr<const model::Model> model_;
    ContextParams params_;
    ThreadPool pool_;
    kernels::KernelSet kernels_;
    uint32_t n_past_ = 0;
    // KV cache: [n_layer][n_ctx][n_head_kv] head rows of keys and values in the cache
    // type (F16 by default, as llama.cpp's).
    const quant::QuantType* kv_ = nullptr;
    size_t k_head_bytes_ = 0, v_head_bytes_ = 0, q_head_bytes_ = 0;
    std::vector<uint8_t> k_cache_, v_cache_;
    std::vector<uint8_t> q_conv_;  // queries converted to the cache type's dot partner
    std::vector<float> v_rows_;    // per thread: one value head row as floats
    // Scratch for one batch of up to n_batch tokens, rows of the named width.
    std::vector<float> x_, xn_, q_, k_, v_, qkv_, attn_, ffn_out_, gate_, up_, logits_, all_logits_;
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

// Context: the state of one sequence on a model — its KV cache and scratch buffers,
// reserved once at creation (nothing is allocated per token) — and the reference
// forward pass that evaluates tokens into logits.
//
//   Context ctx(model, /*n_ctx=*/512);
//   std::span<const float> logits = ctx.decode(prompt_ids);  // logits of the last token
//
// Errors: decode throws loom::Error(OutOfRange) when the tokens do not fit in n_ctx
// (the caller decides whether to stop or shift) and InvalidArgument for a token id
// outside the vocabulary.
#pragma once

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "model/model.h"

namespace loom::runtime {

using tokenizer::TokenId;

class Context {
public:
    Context(std::shared_ptr<const model::Model> model, uint32_t n_ctx);

    // Appends tokens to the sequence; returns the logits after the last one.
    std::span<const float> decode(std::span<const TokenId> tokens);
    void reset() { n_past_ = 0; }
    // Keeps the first n tokens of the sequence (their KV entries stay valid); later
    // tokens are forgotten. For reusing a shared prefix between turns.
    void truncate(uint32_t n) { n_past_ = std::min(n_past_, n); }

    uint32_t n_past() const { return n_past_; }
    uint32_t n_ctx() const { return n_ctx_; }
    const model::Model& model() const { return *model_; }

private:
    void forward(TokenId token, uint32_t pos, bool want_logits);

    std::shared_ptr<const model::Model> model_;
    uint32_t n_ctx_;
    uint32_t n_past_ = 0;
    // KV cache: [n_layer][n_ctx][n_embd_k] and [n_layer][n_ctx][n_embd_v], values rounded
    // to F16 (llama.cpp's default cache type) and kept as floats in this reference path.
    std::vector<float> k_cache_, v_cache_;
    // Scratch, sized once for the largest use.
    std::vector<float> x_, xn_, q_, k_, v_, attn_, att_scores_, gate_, up_, ffn_out_, logits_;
    std::vector<uint8_t> act_;  // activations converted to the weights' dot partner type
    // Norm weights and biases as floats, per layer: decoded once.
    struct LayerFloats {
        std::vector<float> attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm, attn_post_norm, ffn_post_norm;
    };
    std::vector<LayerFloats> layer_floats_;
    std::vector<float> output_norm_;
};

}  // namespace loom::runtime

// The reference forward pass: one transformer block implementation driven by the
// architecture's feature switches (pre-norm, attention with GQA and RoPE, SwiGLU).
#include "runtime/context.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/reference.h"
#include "quant/float_types.h"

namespace loom::runtime {
namespace {

// The KV cache holds F16 values (llama.cpp's default cache type): values pass through
// fp16 on the way in, and so do the queries and attention weights that meet them in
// ggml's F16 dot products.
void round_to_f16(float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) x[i] = quant::fp16_to_fp32(quant::fp32_to_fp16(x[i]));
}

std::vector<float> floats_of(const gguf::TensorInfo* t) {
    if (t == nullptr) return {};
    std::vector<float> out(t->n_elements);
    kernels::dequantize_all(*t, out.data());
    return out;
}

}  // namespace

Context::Context(std::shared_ptr<const model::Model> model, uint32_t n_ctx)
    : model_(std::move(model)), n_ctx_(n_ctx) {
    if (n_ctx_ == 0) throw Error(ErrorCode::InvalidArgument, "context size must be at least 1");
    const model::HParams& h = model_->hparams();
    k_cache_.assign(static_cast<size_t>(h.n_layer) * n_ctx_ * h.n_embd_k(), 0.0f);
    v_cache_.assign(static_cast<size_t>(h.n_layer) * n_ctx_ * h.n_embd_v(), 0.0f);
    size_t widest = std::max({h.n_embd, h.n_ff, h.n_embd_q(), h.n_head * h.head_dim_v});
    x_.resize(h.n_embd);
    xn_.resize(h.n_embd);
    q_.resize(h.n_embd_q());
    k_.resize(h.n_embd_k());
    v_.resize(h.n_embd_v());
    attn_.resize(static_cast<size_t>(h.n_head) * h.head_dim_v);
    att_scores_.resize(n_ctx_);
    gate_.resize(h.n_ff);
    up_.resize(h.n_ff);
    ffn_out_.resize(h.n_embd);
    act_.resize(4 * widest);
    logits_.resize(h.n_vocab);
    const model::Weights& w = model_->weights();
    for (const model::LayerWeights& l : w.layers) {
        layer_floats_.push_back(LayerFloats{floats_of(l.attn_norm), floats_of(l.ffn_norm), floats_of(l.bq),
                                            floats_of(l.bk), floats_of(l.bv), floats_of(l.q_norm),
                                            floats_of(l.k_norm), floats_of(l.attn_post_norm),
                                            floats_of(l.ffn_post_norm)});
    }
    output_norm_ = floats_of(w.output_norm);
}

std::span<const float> Context::decode(std::span<const TokenId> tokens) {
    if (tokens.size() > n_ctx_ - n_past_) {
        throw Error(ErrorCode::OutOfRange, "context full: " + std::to_string(n_past_) + " + " +
                                               std::to_string(tokens.size()) + " tokens exceed n_ctx " +
                                               std::to_string(n_ctx_));
    }
    const uint32_t n_vocab = model_->hparams().n_vocab;
    for (TokenId t : tokens) {
        if (t < 0 || static_cast<uint32_t>(t) >= n_vocab) {
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(t) + " is outside the vocabulary");
        }
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        forward(tokens[i], n_past_, i + 1 == tokens.size());
        ++n_past_;
    }
    return logits_;
}

void Context::forward(TokenId token, uint32_t pos, bool want_logits) {
    const model::HParams& h = model_->hparams();
    const model::ArchSpec& arch = model_->arch();
    const model::Weights& w = model_->weights();
    const bool neox = arch.rope == model::RopeStyle::Neox;
    const uint32_t group = h.n_head / h.n_head_kv;
    const float kq_scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));

    kernels::dequantize_row(*w.tok_embd, token, x_.data());
    if (arch.embed_scale) {
        const float scale = std::sqrt(static_cast<float>(h.n_embd));
        for (float& v : x_) v *= scale;
    }
    for (uint32_t il = 0; il < h.n_layer; ++il) {
        const model::LayerWeights& l = w.layers[il];
        const LayerFloats& f = layer_floats_[il];
        const bool swa = h.is_swa(il);
        const float freq_base = swa ? h.rope_freq_base_swa : h.rope_freq_base;
        // Keys this position may attend to: all before it, or the last n_swa on local layers.
        const uint32_t first = swa && pos + 1 > h.n_swa ? pos + 1 - h.n_swa : 0;
        // Attention.
        kernels::rms_norm(x_.data(), f.attn_norm.data(), xn_.data(), h.n_embd, h.rms_eps);
        kernels::matvec(*l.wq, xn_.data(), q_.data(), act_.data());
        kernels::matvec(*l.wk, xn_.data(), k_.data(), act_.data());
        kernels::matvec(*l.wv, xn_.data(), v_.data(), act_.data());
        if (arch.qkv_bias) {
            for (uint32_t i = 0; i < h.n_embd_q(); ++i) q_[i] += f.bq[i];
            for (uint32_t i = 0; i < h.n_embd_k(); ++i) k_[i] += f.bk[i];
            for (uint32_t i = 0; i < h.n_embd_v(); ++i) v_[i] += f.bv[i];
        }
        for (uint32_t hd = 0; hd < h.n_head; ++hd) {
            float* qh = q_.data() + static_cast<size_t>(hd) * h.head_dim;
            if (arch.qk_norm) kernels::rms_norm(qh, f.q_norm.data(), qh, h.head_dim, h.rms_eps);
            kernels::rope(qh, h.n_rot, pos, freq_base, neox);
        }
        for (uint32_t hd = 0; hd < h.n_head_kv; ++hd) {
            float* kh = k_.data() + static_cast<size_t>(hd) * h.head_dim;
            if (arch.qk_norm) kernels::rms_norm(kh, f.k_norm.data(), kh, h.head_dim, h.rms_eps);
            kernels::rope(kh, h.n_rot, pos, freq_base, neox);
        }
        round_to_f16(q_.data(), q_.size());
        round_to_f16(k_.data(), k_.size());
        round_to_f16(v_.data(), v_.size());
        float* k_layer = k_cache_.data() + static_cast<size_t>(il) * n_ctx_ * h.n_embd_k();
        float* v_layer = v_cache_.data() + static_cast<size_t>(il) * n_ctx_ * h.n_embd_v();
        std::copy(k_.begin(), k_.end(), k_layer + static_cast<size_t>(pos) * h.n_embd_k());
        std::copy(v_.begin(), v_.end(), v_layer + static_cast<size_t>(pos) * h.n_embd_v());
        for (uint32_t hd = 0; hd < h.n_head; ++hd) {
            const float* qh = q_.data() + static_cast<size_t>(hd) * h.head_dim;
            const uint32_t kvh = hd / group;
            for (uint32_t t = first; t <= pos; ++t) {
                const float* kt = k_layer + static_cast<size_t>(t) * h.n_embd_k() + static_cast<size_t>(kvh) * h.head_dim;
                float dot = 0.0f;
                for (uint32_t i = 0; i < h.head_dim; ++i) dot += qh[i] * kt[i];
                att_scores_[t] = dot * kq_scale;
            }
            kernels::softmax(att_scores_.data() + first, pos + 1 - first);
            round_to_f16(att_scores_.data() + first, pos + 1 - first);
            float* out = attn_.data() + static_cast<size_t>(hd) * h.head_dim_v;
            std::fill(out, out + h.head_dim_v, 0.0f);
            for (uint32_t t = first; t <= pos; ++t) {
                const float* vt = v_layer + static_cast<size_t>(t) * h.n_embd_v() + static_cast<size_t>(kvh) * h.head_dim_v;
                for (uint32_t i = 0; i < h.head_dim_v; ++i) out[i] += att_scores_[t] * vt[i];
            }
        }
        kernels::matvec(*l.wo, attn_.data(), ffn_out_.data(), act_.data());
        if (arch.post_norms) {
            kernels::rms_norm(ffn_out_.data(), f.attn_post_norm.data(), ffn_out_.data(), h.n_embd, h.rms_eps);
        }
        for (uint32_t i = 0; i < h.n_embd; ++i) x_[i] += ffn_out_[i];
        // Feed-forward (SwiGLU).
        kernels::rms_norm(x_.data(), f.ffn_norm.data(), xn_.data(), h.n_embd, h.rms_eps);
        kernels::matvec(*l.ffn_gate, xn_.data(), gate_.data(), act_.data());
        kernels::matvec(*l.ffn_up, xn_.data(), up_.data(), act_.data());
        if (arch.ffn_activation == model::FfnActivation::GeluTanh) {
            for (uint32_t i = 0; i < h.n_ff; ++i) gate_[i] = kernels::gelu_tanh(gate_[i]) * up_[i];
        } else {
            for (uint32_t i = 0; i < h.n_ff; ++i) gate_[i] = kernels::silu(gate_[i]) * up_[i];
        }
        kernels::matvec(*l.ffn_down, gate_.data(), ffn_out_.data(), act_.data());
        if (arch.post_norms) {
            kernels::rms_norm(ffn_out_.data(), f.ffn_post_norm.data(), ffn_out_.data(), h.n_embd, h.rms_eps);
        }
        for (uint32_t i = 0; i < h.n_embd; ++i) x_[i] += ffn_out_[i];
    }
    if (!want_logits) return;
    kernels::rms_norm(x_.data(), output_norm_.data(), xn_.data(), h.n_embd, h.rms_eps);
    kernels::matvec(*w.output, xn_.data(), logits_.data(), act_.data());
}

}  // namespace loom::runtime

// The reference forward pass: one transformer block driven by the architecture's
// switches (pre/post norms, attention with GQA, biases, QK norm and RoPE, dense or
// mixture-of-experts feed-forward), evaluated a batch of tokens at a time.
#include "runtime/context.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
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

Context::Context(std::shared_ptr<const model::Model> model, const ContextParams& params)
    : model_(std::move(model)), params_(params), pool_(params.n_threads), kernels_(params.isa) {
    if (params_.n_ctx == 0) throw Error(ErrorCode::InvalidArgument, "context size must be at least 1");
    if (params_.n_batch == 0) throw Error(ErrorCode::InvalidArgument, "batch size must be at least 1");
    if (params_.n_seq == 0) throw Error(ErrorCode::InvalidArgument, "sequence count must be at least 1");
    const model::HParams& h = model_->hparams();
    const model::Weights& w = model_->weights();
    const size_t n_ctx = params_.n_ctx;
    const size_t b = params_.n_batch;
    // KV cache rows in the cache type: F16 (llama.cpp's default), F32, or Q8_0 (heads
    // must be whole blocks of 32).
    using gguf::GgmlType;
    if (params_.kv_type != GgmlType::F16 && params_.kv_type != GgmlType::F32 && params_.kv_type != GgmlType::Q8_0) {
        throw Error(ErrorCode::InvalidArgument, "KV cache type " + std::string(gguf::ggml_type_name(params_.kv_type)) +
                                                    " is not supported (f16, f32, q8_0)");
    }
    kv_ = quant::find_quant_type(params_.kv_type);
    if (h.head_dim % kv_->block_size != 0 || h.head_dim_v % kv_->block_size != 0) {
        throw Error(ErrorCode::InvalidArgument, "KV cache type " + std::string(kv_->name) + " needs head widths (" +
                                                    std::to_string(h.head_dim) + ", " + std::to_string(h.head_dim_v) +
                                                    ") that are multiples of " + std::to_string(kv_->block_size));
    }
    k_head_bytes_ = quant::row_bytes(*kv_, h.head_dim);
    v_head_bytes_ = quant::row_bytes(*kv_, h.head_dim_v);
    q_head_bytes_ = kernels::activation_row_bytes(params_.kv_type, h.head_dim);
    const size_t cells = size_t{h.n_layer} * params_.n_seq * n_ctx * h.n_head_kv;
    k_cache_.assign(cells * k_head_bytes_, 0);
    v_cache_.assign(cells * v_head_bytes_, 0);
    n_past_.assign(params_.n_seq, 0);
    batch_tok_.resize(b);
    batch_seq_.resize(b);
    batch_pos_.resize(b);
    out_rows_.reserve(b);
    q_conv_.resize(b * h.n_head * q_head_bytes_);
    v_rows_.resize(pool_.size() * size_t{h.head_dim_v});
    const size_t n_qkv = size_t{h.n_embd_q()} + h.n_embd_k() + h.n_embd_v();
    const size_t n_attn = size_t{h.n_head} * h.head_dim_v;
    const size_t ff = std::max({size_t{h.n_ff} * (model_->arch().fused_gate_up ? 2 : 1), size_t{h.n_ff_exp},
                                size_t{h.n_ff_shexp}});
    x_.resize(b * h.n_embd);
    xn_.resize(b * h.n_embd);
    q_.resize(b * h.n_embd_q());
    k_.resize(b * h.n_embd_k());
    v_.resize(b * h.n_embd_v());
    if (model_->arch().fused_qkv) qkv_.resize(b * n_qkv);
    attn_.resize(b * n_attn);
    ffn_out_.resize(b * h.n_embd);
    gate_.resize(b * ff);
    up_.resize(b * ff);
    logits_.resize(h.n_vocab);
    embedding_.resize(h.n_embd);
    scores_.resize(size_t{pool_.size()} * (h.n_head / h.n_head_kv) * n_ctx);
    rope_cs_.resize(2 * b * h.n_rot);
    const size_t widest = std::max({size_t{h.n_embd}, ff, n_attn});
    act_.resize(kernels::KernelSet::matmul_scratch_bytes(b, widest));
    if (h.n_expert != 0) {
        router_.resize(b * h.n_expert);
        moe_ids_.resize(b * h.n_expert_used);
        moe_w_.resize(b * h.n_expert_used);
        moe_rows_.resize(b * h.n_expert_used);
        moe_order_.resize(h.n_expert);
        moe_x_.resize(b * h.n_embd);
        moe_out_.resize(b * h.n_expert_used * h.n_embd);
    }
    for (const model::LayerWeights& l : w.layers) {
        layer_floats_.push_back(LayerFloats{floats_of(l.attn_norm), floats_of(l.ffn_norm), floats_of(l.bq),
                                            floats_of(l.bk), floats_of(l.bv), floats_of(l.q_norm),
                                            floats_of(l.k_norm), floats_of(l.attn_post_norm),
                                            floats_of(l.ffn_post_norm), floats_of(l.ffn_gate_inp_shexp)});
    }
    output_norm_ = floats_of(w.output_norm);

    // RoPE of the global layers: scaling, YaRN and frequency factors as llama.cpp applies
    // them; local layers of swa_own_rope architectures (Gemma 3) use their own base and
    // no scaling.
    using RS = model::HParams::RopeScaling;
    ropes_.resize(2);
    RopeSet& global = ropes_[0];
    global.params.n_rot = h.n_rot;
    global.params.freq_base = h.rope_freq_base;
    global.params.freq_scale = h.rope_freq_scale;
    global.params.attn_factor = h.rope_attn_factor;
    global.params.neox = model_->arch().rope == model::RopeStyle::Neox;
    if (h.rope_scaling == RS::Yarn) {
        global.params.ext_factor = 1.0f;
        kernels::rope_yarn_corr_dims(h.n_rot, h.n_ctx_orig, h.rope_freq_base, 32.0f, 1.0f, global.params.corr_lo,
                                     global.params.corr_hi);
    }
    const model::Tensor factors = w.rope_freqs != nullptr ? w.rope_freqs
                                  : params_.n_ctx > h.n_ctx_orig && w.rope_factors_long != nullptr
                                      ? w.rope_factors_long
                                      : w.rope_factors_short;
    global.factors = floats_of(factors);
    ropes_[1] = global;
    if (model_->arch().swa_own_rope) {
        RopeSet& local = ropes_[1];
        local.params = kernels::RopeParams{};
        local.params.n_rot = h.n_rot;
        local.params.freq_base = h.rope_freq_base_swa;
        local.params.neox = global.params.neox;
        local.params.attn_factor = h.rope_attn_factor;  // llama.cpp applies it on every layer
        local.factors.clear();
    }
    for (RopeSet& r : ropes_) r.params.freq_factors = r.factors.empty() ? nullptr : r.factors.data();
}

void Context::check_tokens(std::span<const TokenId> tokens) const {
    const uint32_t n_vocab = model_->hparams().n_vocab;
    for (TokenId t : tokens) {
        if (t < 0 || static_cast<uint32_t>(t) >= n_vocab) {
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(t) + " is outside the vocabulary");
        }
    }
}

void Context::check_fits(uint32_t seq, size_t n) const {
    if (n > params_.n_ctx - n_past_[seq]) {
        throw Error(ErrorCode::OutOfRange, "context full: " + std::to_string(n_past_[seq]) + " + " +
                                               std::to_string(n) + " tokens exceed n_ctx " +
                                               std::to_string(params_.n_ctx) +
                                               (params_.n_seq > 1 ? " (sequence " + std::to_string(seq) + ")" : ""));
    }
}

void Context::check_entries(std::span<const BatchEntry> entries) const {
    // Tokens each sequence would receive: checked against its free positions before any
    // is evaluated, so a refused batch leaves every sequence as it was.
    std::vector<uint32_t> adding(params_.n_seq, 0);
    for (const BatchEntry& e : entries) {
        if (e.seq >= params_.n_seq) {
            throw Error(ErrorCode::InvalidArgument, "sequence " + std::to_string(e.seq) + " does not exist (n_seq " +
                                                        std::to_string(params_.n_seq) + ")");
        }
        check_tokens(std::span<const TokenId>(&e.token, 1));
        ++adding[e.seq];
    }
    for (uint32_t s = 0; s < params_.n_seq; ++s) check_fits(s, adding[s]);
}

void Context::decode_sequence(std::span<const TokenId> tokens, uint32_t seq, bool all_rows, float* out) {
    const size_t n_vocab = model_->hparams().n_vocab;
    for (size_t i = 0; i < tokens.size(); i += params_.n_batch) {
        const auto n = static_cast<uint32_t>(std::min<size_t>(params_.n_batch, tokens.size() - i));
        std::copy_n(tokens.data() + i, n, batch_tok_.begin());
        std::fill_n(batch_seq_.begin(), n, seq);
        out_rows_.clear();
        for (uint32_t t = all_rows ? 0 : n - 1; t < n; ++t) out_rows_.push_back(t);
        forward_batch(n, out_rows_, Output::Logits, all_rows ? out + i * n_vocab : out);
    }
}

std::span<const float> Context::decode(std::span<const TokenId> tokens) {
    check_tokens(tokens);
    check_fits(0, tokens.size());
    decode_sequence(tokens, 0, false, logits_.data());
    return logits_;
}

std::span<const float> Context::decode_all(std::span<const TokenId> tokens) {
    check_tokens(tokens);
    check_fits(0, tokens.size());
    const size_t n_vocab = model_->hparams().n_vocab;
    all_logits_.resize(tokens.size() * n_vocab);
    decode_sequence(tokens, 0, true, all_logits_.data());
    if (!tokens.empty()) {
        std::copy_n(all_logits_.end() - static_cast<std::ptrdiff_t>(n_vocab), n_vocab, logits_.begin());
    }
    return all_logits_;
}

std::span<const float> Context::decode_batch(std::span<const BatchEntry> entries) {
    check_entries(entries);
    const size_t n_vocab = model_->hparams().n_vocab;
    size_t wanted = 0;
    for (const BatchEntry& e : entries) wanted += e.logits ? 1 : 0;
    all_logits_.resize(wanted * n_vocab);
    float* out = all_logits_.data();
    for (size_t i = 0; i < entries.size(); i += params_.n_batch) {
        const auto n = static_cast<uint32_t>(std::min<size_t>(params_.n_batch, entries.size() - i));
        out_rows_.clear();
        for (uint32_t t = 0; t < n; ++t) {
            batch_tok_[t] = entries[i + t].token;
            batch_seq_[t] = entries[i + t].seq;
            if (entries[i + t].logits) out_rows_.push_back(t);
        }
        forward_batch(n, out_rows_, Output::Logits, out);
        out += out_rows_.size() * n_vocab;
    }
    return std::span<const float>(all_logits_.data(), wanted * n_vocab);
}

std::span<const float> Context::embed(std::span<const TokenId> tokens, uint32_t seq) {
    if (seq >= params_.n_seq) {
        throw Error(ErrorCode::InvalidArgument, "sequence " + std::to_string(seq) + " does not exist");
    }
    check_tokens(tokens);
    if (tokens.empty()) throw Error(ErrorCode::InvalidArgument, "nothing to embed: no tokens");
    if (tokens.size() > params_.n_ctx) {
        throw Error(ErrorCode::OutOfRange, std::to_string(tokens.size()) + " tokens to embed exceed n_ctx " +
                                               std::to_string(params_.n_ctx));
    }
    const size_t E = model_->hparams().n_embd;
    n_past_[seq] = 0;
    std::vector<double> sum(E, 0.0);
    std::vector<float> hidden(size_t{params_.n_batch} * E);
    for (size_t i = 0; i < tokens.size(); i += params_.n_batch) {
        const auto n = static_cast<uint32_t>(std::min<size_t>(params_.n_batch, tokens.size() - i));
        std::copy_n(tokens.data() + i, n, batch_tok_.begin());
        std::fill_n(batch_seq_.begin(), n, seq);
        out_rows_.resize(n);
        std::iota(out_rows_.begin(), out_rows_.end(), 0u);
        forward_batch(n, out_rows_, Output::Hidden, hidden.data());
        for (uint32_t t = 0; t < n; ++t) {
            for (size_t j = 0; j < E; ++j) sum[j] += hidden[t * E + j];
        }
    }
    n_past_[seq] = 0;
    double norm = 0.0;
    for (size_t j = 0; j < E; ++j) {
        sum[j] /= static_cast<double>(tokens.size());
        norm += sum[j] * sum[j];
    }
    norm = std::sqrt(norm);
    for (size_t j = 0; j < E; ++j) embedding_[j] = static_cast<float>(norm > 0.0 ? sum[j] / norm : 0.0);
    return embedding_;
}

void Context::matmul(const kernels::Matrix& w, const float* x, size_t x_stride, uint32_t n, float* y,
                     size_t y_stride) {
    kernels_.matmul(pool_, w, x, x_stride, n, y, y_stride, act_.data());
}

void Context::rope_tables(uint32_t n) {
    const uint32_t n_rot = model_->hparams().n_rot;
    for (size_t kind = 0; kind < 2; ++kind) {
        for (uint32_t t = 0; t < n; ++t) {
            kernels::rope_cache(ropes_[kind].params, batch_pos_[t], rope_cs_.data() + (kind * params_.n_batch + t) * n_rot);
        }
    }
}

void Context::forward_batch(uint32_t n, std::span<const uint32_t> out_rows, Output what, float* out) {
    const model::HParams& h = model_->hparams();
    const model::ArchSpec& arch = model_->arch();
    const model::Weights& w = model_->weights();
    const size_t E = h.n_embd;
    // Positions: each sequence's tokens continue where it stands.
    for (uint32_t t = 0; t < n; ++t) batch_pos_[t] = n_past_[batch_seq_[t]]++;
    const TokenId* tokens = batch_tok_.data();

    for (uint32_t t = 0; t < n; ++t) {
        float* x = x_.data() + t * E;
        kernels::dequantize_row(*w.tok_embd, tokens[t], x);
        if (arch.embed_scale) {
            const float scale = std::sqrt(static_cast<float>(h.n_embd));
            for (size_t i = 0; i < E; ++i) x[i] *= scale;
        }
    }
    rope_tables(n);
    for (uint32_t il = 0; il < h.n_layer; ++il) {
        const LayerFloats& f = layer_floats_[il];
        const model::LayerWeights& l = w.layers[il];
        // Attention: pre-norm, attention, optional post-norm, residual.
        for (uint32_t t = 0; t < n; ++t) {
            kernels::rms_norm(x_.data() + t * E, f.attn_norm.data(), xn_.data() + t * E, h.n_embd, h.rms_eps);
        }
        attention_block(il, n);
        matmul(kernels::matrix_of(*l.wo), attn_.data(), size_t{h.n_head} * h.head_dim_v, n, ffn_out_.data(), E);
        for (uint32_t t = 0; t < n; ++t) {
            float* o = ffn_out_.data() + t * E;
            if (arch.post_norms) kernels::rms_norm(o, f.attn_post_norm.data(), o, h.n_embd, h.rms_eps);
            float* x = x_.data() + t * E;
            for (size_t i = 0; i < E; ++i) x[i] += o[i];
        }
        // Feed-forward: pre-norm, dense or experts, optional post-norm, residual.
        for (uint32_t t = 0; t < n; ++t) {
            kernels::rms_norm(x_.data() + t * E, f.ffn_norm.data(), xn_.data() + t * E, h.n_embd, h.rms_eps);
        }
        if (l.is_moe()) {
            ffn_moe(il, n, ffn_out_.data());
        } else {
            ffn_dense(l.ffn_gate, l.ffn_up, l.ffn_down, n, xn_.data(), ffn_out_.data());
        }
        for (uint32_t t = 0; t < n; ++t) {
            float* o = ffn_out_.data() + t * E;
            if (arch.post_norms) kernels::rms_norm(o, f.ffn_post_norm.data(), o, h.n_embd, h.rms_eps);
            float* x = x_.data() + t * E;
            for (size_t i = 0; i < E; ++i) x[i] += o[i];
        }
    }

    // The rows asked for, normed and packed to the front of xn_ (out_rows ascend, so a
    // row only moves down), then through the output matrix when logits are wanted.
    const auto m = static_cast<uint32_t>(out_rows.size());
    for (uint32_t r = 0; r < m; ++r) {
        kernels::rms_norm(x_.data() + size_t{out_rows[r]} * E, output_norm_.data(), xn_.data() + r * E, h.n_embd,
                          h.rms_eps);
    }
    if (m == 0) return;
    if (what == Output::Hidden) {
        std::copy_n(xn_.data(), size_t{m} * E, out);
        return;
    }
    matmul(kernels::matrix_of(*w.output), xn_.data(), E, m, out, h.n_vocab);
}

void Context::attention_block(uint32_t il, uint32_t n) {
    const model::HParams& h = model_->hparams();
    const model::ArchSpec& arch = model_->arch();
    const model::LayerWeights& l = model_->weights().layers[il];
    const LayerFloats& f = layer_floats_[il];
    const size_t E = h.n_embd, nq = h.n_embd_q(), nk = h.n_embd_k(), nv = h.n_embd_v();

    if (l.wqkv != nullptr) {
        // Fused projection: each token's row is [q | k | v].
        const size_t n_qkv = nq + nk + nv;
        matmul(kernels::matrix_of(*l.wqkv), xn_.data(), E, n, qkv_.data(), n_qkv);
        for (uint32_t t = 0; t < n; ++t) {
            const float* row = qkv_.data() + t * n_qkv;
            std::copy_n(row, nq, q_.data() + t * nq);
            std::copy_n(row + nq, nk, k_.data() + t * nk);
            std::copy_n(row + nq + nk, nv, v_.data() + t * nv);
        }
    } else {
        matmul(kernels::matrix_of(*l.wq), xn_.data(), E, n, q_.data(), nq);
        matmul(kernels::matrix_of(*l.wk), xn_.data(), E, n, k_.data(), nk);
        matmul(kernels::matrix_of(*l.wv), xn_.data(), E, n, v_.data(), nv);
    }
    const bool swa = h.is_swa(il);
    const float* cs_base = rope_cs_.data() + (swa ? params_.n_batch : 0) * size_t{h.n_rot};
    const bool neox = arch.rope == model::RopeStyle::Neox;
    const size_t k_pos_bytes = size_t{h.n_head_kv} * k_head_bytes_, v_pos_bytes = size_t{h.n_head_kv} * v_head_bytes_;
    // The cache rows of sequence s on this layer start at (il * n_seq + s) * n_ctx.
    const auto k_seq = [&](uint32_t s) {
        return k_cache_.data() + (size_t{il} * params_.n_seq + s) * params_.n_ctx * k_pos_bytes;
    };
    const auto v_seq = [&](uint32_t s) {
        return v_cache_.data() + (size_t{il} * params_.n_seq + s) * params_.n_ctx * v_pos_bytes;
    };
    const bool f16_rounding = params_.kv_type == gguf::GgmlType::F16;
    for (uint32_t t = 0; t < n; ++t) {
        float* q = q_.data() + t * nq;
        float* k = k_.data() + t * nk;
        float* v = v_.data() + t * nv;
        if (arch.qkv_bias) {
            for (size_t i = 0; i < nq; ++i) q[i] += f.bq[i];
            for (size_t i = 0; i < nk; ++i) k[i] += f.bk[i];
            for (size_t i = 0; i < nv; ++i) v[i] += f.bv[i];
        }
        const float* cs = cs_base + size_t{t} * h.n_rot;
        for (uint32_t hd = 0; hd < h.n_head; ++hd) {
            float* qh = q + size_t{hd} * h.head_dim;
            if (arch.qk_norm) kernels::rms_norm(qh, f.q_norm.data(), qh, h.head_dim, h.rms_eps);
            kernels::rope_apply(qh, h.n_rot, cs, neox);
            // The query meets the keys in the cache type's dot (as ggml converts it).
            kernels_.convert(params_.kv_type, qh, h.head_dim,
                             q_conv_.data() + (size_t{t} * h.n_head + hd) * q_head_bytes_);
        }
        for (uint32_t hd = 0; hd < h.n_head_kv; ++hd) {
            float* kh = k + size_t{hd} * h.head_dim;
            if (arch.qk_norm) kernels::rms_norm(kh, f.k_norm.data(), kh, h.head_dim, h.rms_eps);
            kernels::rope_apply(kh, h.n_rot, cs, neox);
            const size_t pos = batch_pos_[t];
            // The cache types (F16, F32, Q8_0) are their own dot partners: converting a row as
            // an activation gives exactly the cache's bytes, with the SIMD conversion.
            kernels_.convert(params_.kv_type, kh, h.head_dim,
                             k_seq(batch_seq_[t]) + pos * k_pos_bytes + hd * k_head_bytes_);
            kernels_.convert(params_.kv_type, v + size_t{hd} * h.head_dim_v, h.head_dim_v,
                             v_seq(batch_seq_[t]) + pos * v_pos_bytes + hd * v_head_bytes_);
        }
    }

    // Each query head attends to the keys at or before its position (the last n_swa of
    // them on sliding-window layers). GQA-aware: one job takes the query heads that share
    // a KV head, so each key and value row is read (and converted) once for all of them;
    // when there are fewer (token, KV head) pairs than threads, the group is split.
    const uint32_t group = h.n_head / h.n_head_kv;
    const float kq_scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));
    const size_t n_attn = size_t{h.n_head} * h.head_dim_v;
    const quant::VecDotFn kq_dot = kernels_.vec_dot(params_.kv_type);
    const size_t pairs = size_t{n} * h.n_head_kv;
    const uint32_t splits = pairs >= pool_.size() ? 1 : std::min<uint32_t>(group, static_cast<uint32_t>((pool_.size() + pairs - 1) / pairs));
    const uint32_t per_job = (group + splits - 1) / splits;
    const bool v_float = params_.kv_type == gguf::GgmlType::F32;
    pool_.for_range(pairs * splits, 1, [&](size_t begin, size_t end, unsigned thread) {
        float* scores = scores_.data() + size_t{thread} * group * params_.n_ctx;
        float* v_row = v_rows_.data() + size_t{thread} * h.head_dim_v;
        for (size_t job = begin; job < end; ++job) {
            const auto t = static_cast<uint32_t>(job / (size_t{h.n_head_kv} * splits));
            const auto kvh = static_cast<uint32_t>(job / splits % h.n_head_kv);
            const uint32_t h0 = kvh * group + static_cast<uint32_t>(job % splits) * per_job;
            const uint32_t h1 = std::min(h0 + per_job, (kvh + 1) * group);
            const uint32_t pos = batch_pos_[t];
            const uint8_t* k_layer = k_seq(batch_seq_[t]);
            const uint8_t* v_layer = v_seq(batch_seq_[t]);
            const uint32_t first = swa && pos + 1 > h.n_swa ? pos + 1 - h.n_swa : 0;
            const uint32_t count = pos + 1 - first;
            for (uint32_t j = first; j <= pos; ++j) {
                const uint8_t* kj = k_layer + size_t{j} * k_pos_bytes + kvh * k_head_bytes_;
                for (uint32_t hd = h0; hd < h1; ++hd) {
                    const uint8_t* qh = q_conv_.data() + (size_t{t} * h.n_head + hd) * q_head_bytes_;
                    scores[size_t{hd - h0} * params_.n_ctx + j] = kq_dot(h.head_dim, kj, qh) * kq_scale;
                }
            }
            for (uint32_t hd = h0; hd < h1; ++hd) {
                float* sc = scores + size_t{hd - h0} * params_.n_ctx + first;
                kernels::softmax(sc, count);
                // F16 values meet the weights in an F16 dot: the weights pass through fp16.
                if (f16_rounding) round_to_f16(sc, count);
                float* out = attn_.data() + t * n_attn + size_t{hd} * h.head_dim_v;
                std::fill(out, out + h.head_dim_v, 0.0f);
            }
            for (uint32_t j = first; j <= pos; ++j) {
                const uint8_t* vj = v_layer + size_t{j} * v_pos_bytes + kvh * v_head_bytes_;
                const float* v = reinterpret_cast<const float*>(vj);
                if (!v_float) {
                    kernels_.to_float(params_.kv_type, vj, v_row, h.head_dim_v);  // exact for F16
                    v = v_row;
                }
                for (uint32_t hd = h0; hd < h1; ++hd) {
                    kernels_.axpy(h.head_dim_v, scores[size_t{hd - h0} * params_.n_ctx + j], v,
                                  attn_.data() + t * n_attn + size_t{hd} * h.head_dim_v);
                }
            }
        }
    });
}

void Context::ffn_dense(const model::Tensor gate, const model::Tensor up, const model::Tensor down, uint32_t n,
                        const float* x, float* out) {
    const model::HParams& h = model_->hparams();
    const bool gelu = model_->arch().ffn_activation == model::FfnActivation::GeluTanh;
    const kernels::Matrix down_m = kernels::matrix_of(*down);
    const size_t ff = static_cast<size_t>(down_m.n_in);
    const size_t E = h.n_embd;
    if (gate == nullptr) {
        // Fused [gate | up] rows (phi3): one projection of width 2 ff.
        matmul(kernels::matrix_of(*up), x, E, n, up_.data(), 2 * ff);
        for (uint32_t t = 0; t < n; ++t) {
            const float* row = up_.data() + t * 2 * ff;
            std::copy_n(row, ff, gate_.data() + t * ff);
        }
        for (uint32_t t = 0; t < n; ++t) {
            const float* row = up_.data() + t * 2 * ff;
            std::copy_n(row + ff, ff, up_.data() + t * ff);  // in place: moves left, never overlaps a later read
        }
    } else {
        matmul(kernels::matrix_of(*gate), x, E, n, gate_.data(), ff);
        matmul(kernels::matrix_of(*up), x, E, n, up_.data(), ff);
    }
    if (gelu) {
        kernels_.gelu_mul(gate_.data(), up_.data(), static_cast<int64_t>(size_t{n} * ff));
    } else {
        for (size_t i = 0; i < size_t{n} * ff; ++i) gate_[i] = kernels::silu(gate_[i]) * up_[i];
    }
    matmul(down_m, gate_.data(), ff, n, out, E);
}

void Context::ffn_moe(uint32_t il, uint32_t n, float* out) {
    const model::HParams& h = model_->hparams();
    const model::ArchSpec& arch = model_->arch();
    const model::LayerWeights& l = model_->weights().layers[il];
    const size_t E = h.n_embd, n_exp = h.n_expert, k = h.n_expert_used;

    // Routing: softmax over the router logits, the k most probable experts in order,
    // their probabilities as weights (renormalised when the architecture says so).
    matmul(kernels::matrix_of(*l.ffn_gate_inp), xn_.data(), E, n, router_.data(), n_exp);
    std::vector<uint32_t>& order = moe_order_;
    for (uint32_t t = 0; t < n; ++t) {
        float* p = router_.data() + t * n_exp;
        kernels::softmax(p, static_cast<int64_t>(n_exp));
        std::iota(order.begin(), order.end(), 0u);
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                          [p](uint32_t a, uint32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        float sum = 0.0f;
        for (size_t s = 0; s < k; ++s) {
            moe_ids_[t * k + s] = order[s];
            moe_w_[t * k + s] = p[order[s]];
            sum += p[order[s]];
        }
        if (arch.moe_norm_weights) {
            for (size_t s = 0; s < k; ++s) moe_w_[t * k + s] /= sum;
        }
    }
    // Each expert evaluates the tokens routed to it, as one batch.
    for (uint32_t e = 0; e < n_exp; ++e) {
        uint32_t m = 0;
        for (uint32_t slot = 0; slot < n * k; ++slot) {
            if (moe_ids_[slot] != e) continue;
            moe_rows_[m] = slot;
            std::copy_n(xn_.data() + (slot / k) * E, E, moe_x_.data() + m * E);
            ++m;
        }
        if (m == 0) continue;
        const kernels::Matrix gate = kernels::matrix_of(*l.ffn_gate_exps, e);
        const kernels::Matrix up = kernels::matrix_of(*l.ffn_up_exps, e);
        const kernels::Matrix down = kernels::matrix_of(*l.ffn_down_exps, e);
        const size_t ff = static_cast<size_t>(gate.n_out);
        matmul(gate, moe_x_.data(), E, m, gate_.data(), ff);
        matmul(up, moe_x_.data(), E, m, up_.data(), ff);
        for (size_t i = 0; i < size_t{m} * ff; ++i) gate_[i] = kernels::silu(gate_[i]) * up_[i];
        // Outputs land at their (token, slot) place: moe_out_ rows are reused as scratch.
        matmul(down, gate_.data(), ff, m, ffn_out_.data(), E);
        for (uint32_t r = 0; r < m; ++r) {
            std::copy_n(ffn_out_.data() + r * E, E, moe_out_.data() + size_t{moe_rows_[r]} * E);
        }
    }
    // Weighted sum over each token's experts in slot order (as ggml adds them).
    for (uint32_t t = 0; t < n; ++t) {
        float* o = out + t * E;
        for (size_t s = 0; s < k; ++s) {
            const float wgt = moe_w_[t * k + s];
            const float* y = moe_out_.data() + (t * k + s) * E;
            if (s == 0) {
                for (size_t i = 0; i < E; ++i) o[i] = y[i] * wgt;
            } else {
                for (size_t i = 0; i < E; ++i) o[i] += y[i] * wgt;
            }
        }
    }
    if (l.ffn_gate_inp_shexp != nullptr) {
        // Shared expert, gated per token by sigmoid(gate_inp_shexp . x). Its output goes
        // through moe_out_ (free again) before being added.
        float* shared = moe_out_.data();
        ffn_dense(l.ffn_gate_shexp, l.ffn_up_shexp, l.ffn_down_shexp, n, xn_.data(), shared);
        const std::vector<float>& g = layer_floats_[il].gate_inp_shexp;
        for (uint32_t t = 0; t < n; ++t) {
            const float* x = xn_.data() + t * E;
            float dot = 0.0f;
            for (size_t i = 0; i < E; ++i) dot += g[i] * x[i];
            const float s = 1.0f / (1.0f + std::exp(-dot));
            for (size_t i = 0; i < E; ++i) out[t * E + i] += shared[t * E + i] * s;
        }
    }
}

}  // namespace loom::runtime

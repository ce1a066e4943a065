// Tensor binding and shape checks.
#include "model/weights.h"

#include <initializer_list>

#include "core/error.h"

namespace loom::model {
namespace {

Tensor bind(const gguf::GgufFile& file, const std::string& name, std::initializer_list<uint64_t> shape,
            bool required = true) {
    const gguf::TensorInfo* t = file.find_tensor(name);
    if (t == nullptr) {
        if (!required) return nullptr;
        throw Error(ErrorCode::NotFound, file.source() + ": tensor " + name + ": missing (the architecture needs it)");
    }
    bool ok = t->n_dims == shape.size() || (shape.size() == 2 && t->n_dims == 1 && *(shape.begin() + 1) == 1);
    size_t d = 0;
    for (uint64_t want : shape) ok = ok && t->ne[d++] == want;
    if (!ok) {
        std::string want = "[";
        d = 0;
        for (uint64_t w : shape) want += (d++ ? ", " : "") + std::to_string(w);
        throw Error(ErrorCode::Format, file.source() + ": tensor " + name + ": expected shape " + want +
                                           "], found " + t->shape_string());
    }
    return t;
}

}  // namespace

Weights bind_weights(const gguf::GgufFile& file, const ArchSpec& spec, HParams& h) {
    Weights w;
    const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
    if (embd == nullptr || embd->n_dims != 2) {
        throw Error(ErrorCode::NotFound, file.source() + ": tensor token_embd.weight: missing or not 2-D");
    }
    if (embd->ne[1] == 0 || embd->ne[1] > INT32_MAX) {
        throw Error(ErrorCode::Format, file.source() + ": tensor token_embd.weight: bad vocabulary size");
    }
    h.n_vocab = static_cast<uint32_t>(embd->ne[1]);
    w.tok_embd = bind(file, "token_embd.weight", {h.n_embd, h.n_vocab});
    w.output_norm = bind(file, "output_norm.weight", {h.n_embd});
    w.output = bind(file, "output.weight", {h.n_embd, h.n_vocab}, !spec.output_tied);
    if (w.output == nullptr) w.output = w.tok_embd;
    w.rope_freqs = bind(file, "rope_freqs.weight", {h.n_rot / 2}, false);
    w.rope_factors_long = bind(file, "rope_factors_long.weight", {h.n_rot / 2}, false);
    w.rope_factors_short = bind(file, "rope_factors_short.weight", {h.n_rot / 2}, false);
    w.layers.resize(h.n_layer);
    for (uint32_t il = 0; il < h.n_layer; ++il) {
        std::string b = "blk." + std::to_string(il) + ".";
        LayerWeights& l = w.layers[il];
        l.attn_norm = bind(file, b + "attn_norm.weight", {h.n_embd});
        if (spec.fused_qkv) {
            l.wqkv = bind(file, b + "attn_qkv.weight", {h.n_embd, h.n_embd_q() + h.n_embd_k() + h.n_embd_v()}, false);
        }
        if (l.wqkv == nullptr) {
            l.wq = bind(file, b + "attn_q.weight", {h.n_embd, h.n_embd_q()});
            l.wk = bind(file, b + "attn_k.weight", {h.n_embd, h.n_embd_k()});
            l.wv = bind(file, b + "attn_v.weight", {h.n_embd, h.n_embd_v()});
        }
        l.wo = bind(file, b + "attn_output.weight", {uint64_t{h.n_head} * h.head_dim_v, h.n_embd});
        if (spec.qkv_bias) {
            l.bq = bind(file, b + "attn_q.bias", {h.n_embd_q()});
            l.bk = bind(file, b + "attn_k.bias", {h.n_embd_k()});
            l.bv = bind(file, b + "attn_v.bias", {h.n_embd_v()});
        }
        if (spec.qk_norm) {
            l.q_norm = bind(file, b + "attn_q_norm.weight", {h.head_dim});
            l.k_norm = bind(file, b + "attn_k_norm.weight", {h.head_dim});
        }
        l.ffn_norm = bind(file, b + "ffn_norm.weight", {h.n_embd});
        if (spec.post_norms) {
            l.attn_post_norm = bind(file, b + "post_attention_norm.weight", {h.n_embd});
            l.ffn_post_norm = bind(file, b + "post_ffw_norm.weight", {h.n_embd});
        }
        if (h.n_expert != 0) {
            l.ffn_gate_inp = bind(file, b + "ffn_gate_inp.weight", {h.n_embd, h.n_expert});
            l.ffn_gate_exps = bind(file, b + "ffn_gate_exps.weight", {h.n_embd, h.n_ff_exp, h.n_expert});
            l.ffn_up_exps = bind(file, b + "ffn_up_exps.weight", {h.n_embd, h.n_ff_exp, h.n_expert});
            l.ffn_down_exps = bind(file, b + "ffn_down_exps.weight", {h.n_ff_exp, h.n_embd, h.n_expert});
            if (spec.moe_shared_expert) {
                l.ffn_gate_inp_shexp = bind(file, b + "ffn_gate_inp_shexp.weight", {h.n_embd});
                l.ffn_gate_shexp = bind(file, b + "ffn_gate_shexp.weight", {h.n_embd, h.n_ff_shexp});
                l.ffn_up_shexp = bind(file, b + "ffn_up_shexp.weight", {h.n_embd, h.n_ff_shexp});
                l.ffn_down_shexp = bind(file, b + "ffn_down_shexp.weight", {h.n_ff_shexp, h.n_embd});
            }
        } else if (spec.fused_gate_up) {
            l.ffn_up = bind(file, b + "ffn_up.weight", {h.n_embd, uint64_t{2} * h.n_ff});
            l.ffn_down = bind(file, b + "ffn_down.weight", {h.n_ff, h.n_embd});
        } else {
            l.ffn_gate = bind(file, b + "ffn_gate.weight", {h.n_embd, h.n_ff});
            l.ffn_up = bind(file, b + "ffn_up.weight", {h.n_embd, h.n_ff});
            l.ffn_down = bind(file, b + "ffn_down.weight", {h.n_ff, h.n_embd});
        }
    }
    return w;
}

}  // namespace loom::model

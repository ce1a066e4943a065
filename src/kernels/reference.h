// Reference (scalar, single-threaded) operations of the forward pass: the definition
// of correct that fast kernels are compared with. Not fast; nothing allocates per call
// except where noted.
#pragma once

#include <cstdint>
#include <span>

#include "gguf/gguf_file.h"

namespace loom::kernels {

// out[n] = x[n] / rms(x) * weight[n]; weight may be null (no scale).
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) noexcept;

// A weight matrix: n_out rows of n_in elements of one type, rows contiguous. A 2-D
// tensor [n_in, n_out], or one expert's slice of a 3-D tensor [n_in, n_out, n_expert].
struct Matrix {
    gguf::GgmlType type = gguf::GgmlType::F32;
    const uint8_t* data = nullptr;
    int64_t n_in = 0;
    int64_t n_out = 0;
    size_t row_bytes = 0;
};

// The matrix of a 2-D tensor, or slice `index` along ne[2] of a 3-D one. Throws
// loom::Error (Unsupported) naming the tensor when its type cannot be computed with.
Matrix matrix_of(const gguf::TensorInfo& t, int64_t index = 0);

// Bytes of one activation row of n_in floats converted for a matrix of type w_type: its
// dot partner's row (Q8_0, Q8_1, Q8_K, F16, BF16), or the floats themselves for F32.
size_t activation_row_bytes(gguf::GgmlType w_type, int64_t n_in);
// Converts n_in floats into that form (as ggml's CPU backend does before its vec_dot).
void convert_activations(gguf::GgmlType w_type, const float* x, int64_t n_in, uint8_t* out) noexcept;

// y[t * y_stride + r] = dot(W row r, activation row t) for rows r in [r0, r1) and
// tokens t in [0, n_tokens): activation rows from convert_activations, xq_stride bytes
// apart, each dot the quant table's reference vec_dot.
void matmul_rows(const Matrix& w, const uint8_t* xq, size_t xq_stride, int64_t n_tokens, float* y,
                 int64_t y_stride, int64_t r0, int64_t r1) noexcept;

// Row r of a 2-D tensor as floats (embedding lookup).
void dequantize_row(const gguf::TensorInfo& t, int64_t r, float* out);

// A 1-D tensor as floats (norm weights, biases).
void dequantize_all(const gguf::TensorInfo& t, float* out);

// Rotary position embedding as ggml_rope_ext computes it. Angle of pair i at position p:
// p * base^(-2i/n_rot) / freq_factors[i], then YaRN: theta_interp = freq_scale * theta;
// with ext_factor != 0, mixed with the unscaled angle by a ramp over [corr_lo, corr_hi]
// and the magnitude scaled by 1 + 0.1 ln(1/freq_scale); cos and sin times attn_factor.
struct RopeParams {
    int64_t n_rot = 0;
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;   // 1 / linear scaling factor
    float ext_factor = 0.0f;   // YaRN extrapolation mix (1 for YaRN models, else 0)
    float attn_factor = 1.0f;
    float corr_lo = 0.0f, corr_hi = 0.0f;  // YaRN correction dims (yarn_corr_dims)
    const float* freq_factors = nullptr;   // [n_rot / 2] (Llama 3 rope_freqs), or null
    bool neox = false;  // rotate (i, i + n_rot/2) pairs; otherwise adjacent (2i, 2i+1)
};

// YaRN's correction dims for n_ctx_orig, as ggml_rope_yarn_corr_dims (beta_fast 32,
// beta_slow 1 in llama.cpp).
void rope_yarn_corr_dims(int64_t n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                         float& lo, float& hi) noexcept;

// cos/sin table of one position: cs[2i] = cos, cs[2i + 1] = sin, i < n_rot / 2.
void rope_cache(const RopeParams& p, int64_t pos, float* cs) noexcept;
// Rotates the first n_rot dims of one head with a table from rope_cache.
void rope_apply(float* head, int64_t n_rot, const float* cs, bool neox) noexcept;

// In-place softmax over n values.
void softmax(float* x, int64_t n) noexcept;

float silu(float x) noexcept;
// GELU, tanh approximation, as ggml evaluates it on the CPU: through a table over all
// fp16 inputs (x rounded to fp16, result rounded to fp16), identity above 10, 0 below -10.
float gelu_tanh(float x) noexcept;

// Whether the quant table can compute with this tensor type.
bool can_compute(gguf::GgmlType type);

}  // namespace loom::kernels

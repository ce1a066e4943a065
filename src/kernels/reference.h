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

// y[r] = sum_i W[r, i] x[i] for r in [0, n_out): W is a 2-D tensor [n_in, n_out] of any
// type the quant table has. As ggml computes on the CPU: F32 weights take a float dot;
// other types first convert x to the type's dot partner (Q8_0, Q8_1, Q8_K, F16, BF16)
// in act_buffer (at least 4 * n_in bytes) and take the table's vec_dot per row.
void matvec(const gguf::TensorInfo& w, const float* x, float* y, uint8_t* act_buffer);

// Row r of a 2-D tensor as floats (embedding lookup).
void dequantize_row(const gguf::TensorInfo& t, int64_t r, float* out);

// A 1-D tensor as floats (norm weights, biases).
void dequantize_all(const gguf::TensorInfo& t, float* out);

// Rotary position embedding on one head of width head_dim, first n_rot dims rotated.
// neox: rotate (i, i + n_rot/2) pairs; otherwise adjacent (2i, 2i+1) pairs.
void rope(float* head, int64_t n_rot, int64_t pos, float freq_base, bool neox) noexcept;

// In-place softmax over n values.
void softmax(float* x, int64_t n) noexcept;

float silu(float x) noexcept;
// GELU, tanh approximation, as ggml evaluates it on the CPU: through a table over all
// fp16 inputs (x rounded to fp16, result rounded to fp16), identity above 10, 0 below -10.
float gelu_tanh(float x) noexcept;

// Whether the quant table can compute with this tensor type.
bool can_compute(gguf::GgmlType type);

}  // namespace loom::kernels

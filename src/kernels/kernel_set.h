// KernelSet: the dot-product kernels one context computes with, chosen once from the
// CPU's instruction set (STYLE.md: one object owned by the context, no global dispatch
// state). Every weight type has a kernel: the SIMD one where src/kernels/x86_dots.cpp
// has it for the chosen level (dot and multi-token rows kernel), the scalar reference of
// src/quant/ otherwise, so the
// forced levels (Isa::Scalar = --reference-kernels) run every model.
//
//   KernelSet k(detect_isa());
//   k.matmul(pool, w, x, x_stride, n_tokens, y, y_stride, scratch);
//
// Errors: the constructor throws loom::Error(Unsupported) for a level this CPU lacks.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"
#include "kernels/reference.h"
#include "kernels/x86_dots.h"
#include "quant/quant_type.h"

namespace loom::kernels {

class KernelSet {
public:
    explicit KernelSet(Isa isa);

    Isa isa() const { return isa_; }
    // The vec_dot used for a weight type (SIMD or reference); nullptr for a type Loom
    // cannot compute with. SIMD dots read blocks in place: x and y must be aligned as
    // simd_aligned() says (matmul_rows checks and falls back to the reference).
    quant::VecDotFn vec_dot(gguf::GgmlType type) const;
    // Whether rows of this type at data, row_bytes apart, meet the SIMD kernels' alignment
    // (2 bytes for blocks and F16/BF16, 4 for F32; GGUF's 32-byte tensor alignment and
    // even block sizes give that in every well-formed file).
    static bool simd_aligned(gguf::GgmlType type, const uint8_t* data, size_t row_bytes) noexcept;
    // Whether the type runs on a SIMD kernel at this level (for reports and tests).
    bool accelerated(gguf::GgmlType type) const;

    // y (n rows, y_stride floats apart) = W x (n rows of w.n_in floats, x_stride apart):
    // the activations are converted to the weights' dot partner in scratch, then the
    // weight rows are split over the pool's threads. From the GEMM kernel's min_tokens
    // on, where the level has one for the type, the converted activations are packed for
    // it and the product runs on it, kGemmMaxTokens tokens at a time (results then differ
    // from the rows kernels' in float rounding). scratch holds at least
    // matmul_scratch_bytes(n, w.n_in) bytes.
    void matmul(ThreadPool& pool, const Matrix& w, const float* x, size_t x_stride, uint32_t n, float* y,
                size_t y_stride, uint8_t* scratch) const;
    // Scratch bytes matmul needs for n tokens of up to n_in inputs, any weight type: the
    // float rows (4 bytes an input), or the GEMM's dot-partner rows (at most 2 bytes an
    // input, F16) plus their packed copy (at most 4 bytes an input and token, F16 as
    // fp32, tokens rounded up to 16) and 64 bytes of alignment.
    static size_t matmul_scratch_bytes(size_t n, size_t n_in) noexcept {
        const size_t m = n < kGemmMaxTokens ? n : kGemmMaxTokens;
        const size_t gemm = m * (n_in * 2 + 64) + (m + 15) / 16 * 16 * (n_in * 4) + 64;
        // + 64: matmul first aligns the scratch to 64 bytes (callers may pass any address).
        return (n * 4 * n_in > gemm ? n * 4 * n_in : gemm) + 64;
    }
    // Tokens of one GEMM pass: more are done in chunks (scratch stays bounded; the GEMM
    // keeps 16 rows' sums of all of them on its stack).
    static constexpr uint32_t kGemmMaxTokens = 256;

    // As kernels::convert_activations (bit for bit), SIMD where the level has it.
    void convert(gguf::GgmlType w_type, const float* x, int64_t n_in, uint8_t* out) const noexcept;

    // As kernels::matmul_rows, with this set's dot products.
    void matmul_rows(const Matrix& w, const uint8_t* xq, size_t xq_stride, int64_t n_tokens, float* y,
                     int64_t y_stride, int64_t r0, int64_t r1) const noexcept;

    // Float helpers of the attention and feed-forward, at this level.
    float dot(const float* x, const float* y, int64_t n) const noexcept;
    void axpy(int64_t n, float a, const float* x, float* y) const noexcept;  // y += a x
    // y += a x for a row x of n elements of type (F32, F16 or any type with a dequantize:
    // converted through scratch, n floats).
    void axpy_row(gguf::GgmlType type, int64_t n, float a, const void* x, float* y, float* scratch) const noexcept;
    // A row of n elements of type as floats (F32 copied, F16 SIMD where the level has it,
    // any type with a dequantize through it), bit for bit the quant table's dequantize_row.
    void to_float(gguf::GgmlType type, const void* x, float* out, int64_t n) const noexcept;
    // gate[i] = gelu_tanh(gate[i]) * up[i], exactly kernels::gelu_tanh (ggml's table).
    void gelu_mul(float* gate, const float* up, int64_t n) const noexcept;

private:
    static constexpr size_t kTypes = 64;  // above every ggml type id Loom computes with
    Isa isa_;
    std::array<quant::VecDotFn, kTypes> dots_{};
    std::array<RowsFn, kTypes> rows_{};  // SIMD rows kernels; null: the vec_dot loop
    std::array<GemmKernels, kTypes> gemm_{};  // many-token kernels; null: the rows kernels
    FloatKernels float_;                 // null members: the scalar loops
    std::vector<float> gelu_table_;      // gelu_tanh of every fp16 value, by its bits
};

}  // namespace loom::kernels

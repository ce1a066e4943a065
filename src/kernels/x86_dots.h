// The x86-64 SIMD kernels and their dispatch by ISA level. A weight type's kernels are a
// dot (one weight row against one activation row in the type's dot-partner format: the
// reference vec_dot's contract; integer block dots exact, float sums in another order)
// and a rows kernel (a range of rows against several activation rows, each weight block
// unpacked once). Each level is compiled in its own file with its own flags
// (x86_avx2.cpp, x86_avx512.cpp from x86_simd_impl.h), so a level's code only runs
// where the dispatcher (KernelSet) found the CPU supports it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"
#include "quant/quant_type.h"

namespace loom::kernels {

// y[t * y_stride + r] = dot(row r of w, activation row t), r in [r0, r1), t < n_tokens.
struct RowsArgs {
    const uint8_t* w;
    size_t row_bytes;
    int64_t n_in;
    const uint8_t* xq;
    size_t xq_stride;
    int64_t n_tokens;
    float* y;
    int64_t y_stride;
    int64_t r0, r1;
};
using RowsFn = void (*)(const RowsArgs& args) noexcept;

struct SimdKernels {
    quant::VecDotFn dot = nullptr;
    RowsFn rows = nullptr;
};

// The matrix product of many tokens (prompt processing), at levels that have it: the
// activations are first converted to the dot partner (convert_activations) and packed,
// token by token, into groups of 16 tokens whose bytes lie side by side (pack), so one
// vector holds the same 4 inputs of 16 tokens; gemm then unpacks a few weight rows at a
// time into unsigned levels and dots each 4-level group, broadcast, with all 16 tokens in
// one instruction. Integer block sums are exact; their float sums run in another order
// than the dot's, so results differ from the rows kernel by float rounding only.
struct GemmArgs {
    const uint8_t* w;
    size_t row_bytes;
    int64_t n_in;
    const uint8_t* xp;  // packed activations of n_tokens tokens (pack), 64-byte aligned
    int64_t n_tokens;
    float* y;           // y[t * y_stride + r] for t < n_tokens, r in [r0, r1)
    int64_t y_stride;
    int64_t r0, r1;
};
struct GemmKernels {
    // convert_activations for the type, bit for bit (SIMD); null: convert_activations.
    void (*convert)(const float* x, int64_t n_in, uint8_t* out) noexcept = nullptr;
    // Bytes of the packed activations of n_tokens tokens of n_in inputs.
    size_t (*packed_bytes)(int64_t n_tokens, int64_t n_in) noexcept = nullptr;
    // Packs token t (< n_tokens rounded up to 16) from its dot-partner row xq into xp;
    // xq null: t is padding (zeros). Distinct tokens write distinct bytes.
    void (*pack)(const uint8_t* xq, int64_t t, int64_t n_in, uint8_t* xp) noexcept = nullptr;
    void (*gemm)(const GemmArgs& args) noexcept = nullptr;
    int64_t n_in_multiple = 1;  // gemm takes n_in that are multiples of this (else: the rows kernels)
    uint32_t min_tokens = 16;   // fewer tokens: the rows kernels are as fast (bench/bench_matmul)
};

// Float kernels of the attention and feed-forward: a dot, y += a x, and GELU-times-up
// through a table of all fp16 inputs (KernelSet::gelu_table()).
struct FloatKernels {
    quant::VecDotFn dot = nullptr;  // float rows
    void (*axpy)(int64_t n, float a, const float* x, float* y) noexcept = nullptr;
    void (*axpy_f16)(int64_t n, float a, const uint16_t* x, float* y) noexcept = nullptr;
    void (*f16_to_f32)(int64_t n, const uint16_t* x, float* out) noexcept = nullptr;
    void (*gelu_mul)(const float* table, float* gate, const float* up, int64_t n) noexcept = nullptr;
};

namespace avx2 {
SimdKernels kernels_for(gguf::GgmlType type);
FloatKernels float_kernels();
}  // namespace avx2
namespace avx512vnni {
SimdKernels kernels_for(gguf::GgmlType type);
FloatKernels float_kernels();
GemmKernels gemm_kernels_for(gguf::GgmlType type);  // x86_gemm_avx512.cpp
}  // namespace avx512vnni

// The kernels of a weight type at a level; both null where the level has none (Scalar,
// a type without SIMD kernels, a non-x86 build).
SimdKernels x86_kernels(gguf::GgmlType type, Isa isa);
// The many-token kernels of a weight type at a level; all null where the level has none
// (every level below AVX-512 VNNI, F32).
GemmKernels x86_gemm_kernels(gguf::GgmlType type, Isa isa);
// The float kernels at a level; all null for Scalar or a non-x86 build.
FloatKernels x86_float_kernels(Isa isa);

}  // namespace loom::kernels

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

// Float kernels of the attention and feed-forward: a dot, y += a x, and GELU-times-up
// through a table of all fp16 inputs (KernelSet::gelu_table()).
struct FloatKernels {
    quant::VecDotFn dot = nullptr;  // float rows
    void (*axpy)(int64_t n, float a, const float* x, float* y) noexcept = nullptr;
    void (*axpy_f16)(int64_t n, float a, const uint16_t* x, float* y) noexcept = nullptr;
    void (*gelu_mul)(const float* table, float* gate, const float* up, int64_t n) noexcept = nullptr;
};

namespace avx2 {
SimdKernels kernels_for(gguf::GgmlType type);
FloatKernels float_kernels();
}  // namespace avx2
namespace avx512vnni {
SimdKernels kernels_for(gguf::GgmlType type);
FloatKernels float_kernels();
}  // namespace avx512vnni

// The kernels of a weight type at a level; both null where the level has none (Scalar,
// a type without SIMD kernels, a non-x86 build).
SimdKernels x86_kernels(gguf::GgmlType type, Isa isa);
// The float kernels at a level; all null for Scalar or a non-x86 build.
FloatKernels x86_float_kernels(Isa isa);

}  // namespace loom::kernels

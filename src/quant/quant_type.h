// The table of tensor types Loom can compute with: for each, its ggml type, block
// geometry, the scalar reference kernels (dequantize, quantize, dot) and the type its dot
// partner (the activation row) is quantized to, as ggml's CPU backend pairs them
// (type_traits_cpu[].vec_dot_type in ggml-cpu.c):
//   F32 -> F32, F16 -> F16, BF16 -> BF16 (the float types dot with their own type);
//   Q4_0, Q5_0, Q8_0, IQ4_NL -> Q8_0;  Q4_1, Q5_1 -> Q8_1;
//   Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS -> Q8_K.
// Q8_1 and Q8_K are activation-side only (no vec_dot: ggml has none either); they are in
// the table because the partner rows are made with their quantize_row.
// Every consumer (tests, `loom inspect`, `loom quantize`, the kernel registry) iterates
// this one table, so a new type is one family file plus one entry (STYLE.md section 3).
//
//   const QuantType* qt = find_quant_type(tensor.type);    // nullptr: not computable
//   std::vector<float> row(n);
//   qt->dequantize_row(tensor.data.data(), row.data(), n);  // n % qt->block_size == 0
//
//   std::vector<uint8_t> yq(row_bytes(*find_quant_type(qt->dot_partner), n));
//   find_quant_type(qt->dot_partner)->quantize_row(activations, yq.data(), n);
//   float dot = qt->vec_dot(n, weights, yq.data());
//
// vec_dot evaluates ggml's scalar (_generic) expressions in source order with no fused
// multiply-add (loom_quant builds with -ffp-contract=off): a ggml build whose compiler
// contracts a*b+c into an FMA differs from it in the last bits, and SIMD kernels differ by
// their summation order. dequantize_row and quantize_row give the same bits as ggml's
// dequantize_row_* and ggml_quantize_chunk (tests/python/test_quant_reference.py).
//
// Kernels take an element count n that must be a multiple of block_size (a precondition,
// not checked: callers validate shapes at load time), read and write exactly
// n / block_size blocks or n floats, accept any alignment, and never throw.
// Not here: the optimized kernels (src/kernels/, registered per type and ISA) and any
// type not listed (the other IQ*, TQ*, MXFP4, NVFP4, Q1_0, integer types).
// Spec: ggml src/ggml-cpu/ggml-cpu.c (type_traits_cpu), src/ggml.c (type_traits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "gguf/ggml_type.h"

namespace loom::quant {

using DequantizeRowFn = void (*)(const void* blocks, float* out, int64_t n) noexcept;
using QuantizeRowFn = void (*)(const float* in, void* blocks, int64_t n) noexcept;
// Dot of n elements of x (this type) with n elements of y (the dot partner type).
using VecDotFn = float (*)(int64_t n, const void* x, const void* y) noexcept;

struct QuantType {
    gguf::GgmlType type;
    std::string_view name;          // as llama.cpp prints it ("q4_K"), same as gguf's table
    uint32_t block_size;            // elements per block (1 for F32 / F16 / BF16)
    uint32_t block_bytes;           // bytes per block
    gguf::GgmlType dot_partner;     // type of the activation row in vec_dot
    DequantizeRowFn dequantize_row;
    QuantizeRowFn quantize_row;
    VecDotFn vec_dot;               // nullptr for the activation-only Q8_1 and Q8_K
};

// Every type Loom can compute with, in ggml type-id order.
std::span<const QuantType> quant_types();

// The entry of a type, or nullptr when Loom cannot compute with it (yet).
const QuantType* find_quant_type(gguf::GgmlType type);

// Bytes of n elements of the type (n a multiple of its block size).
constexpr size_t row_bytes(const QuantType& qt, int64_t n) {
    return static_cast<size_t>(n / qt.block_size) * qt.block_bytes;
}

// The reference dot of n elements: x of type `type`, y of its dot partner type. Throws
// loom::Error (Unsupported) for a type not in the table or without vec_dot (Q8_1, Q8_K).
float vec_dot(gguf::GgmlType type, int64_t n, const void* x, const void* y);

}  // namespace loom::quant

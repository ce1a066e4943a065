// Kernel selection and the row loop of the matrix product.
#include "kernels/kernel_set.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "quant/float_types.h"
#include "kernels/x86_dots.h"

namespace loom::kernels {

KernelSet::KernelSet(Isa isa) : isa_(isa) {
    if (!isa_supported(isa)) {
        throw Error(ErrorCode::Unsupported,
                    "this CPU does not support the " + std::string(isa_name(isa)) + " kernels");
    }
    for (const quant::QuantType& q : quant::quant_types()) {
        const auto id = static_cast<size_t>(q.type);
        if (id >= kTypes || q.vec_dot == nullptr) continue;
        const SimdKernels fast = x86_kernels(q.type, isa);
        dots_[id] = fast.dot != nullptr ? fast.dot : q.vec_dot;
        rows_[id] = fast.rows;
        gemm_[id] = x86_gemm_kernels(q.type, isa);
    }
    float_ = x86_float_kernels(isa);
    if (float_.gelu_mul != nullptr) {
        // Between -10 and 10 gelu_tanh(x) depends only on fp16(x): tabulate it once.
        gelu_table_.resize(65536);
        for (uint32_t h = 0; h < 65536; ++h) {
            gelu_table_[h] = gelu_tanh(quant::fp16_to_fp32(static_cast<uint16_t>(h)));
        }
    }
}

float KernelSet::dot(const float* x, const float* y, int64_t n) const noexcept {
    if (float_.dot != nullptr) return float_.dot(n, x, y);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

void KernelSet::axpy(int64_t n, float a, const float* x, float* y) const noexcept {
    if (float_.axpy != nullptr) return float_.axpy(n, a, x, y);
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void KernelSet::axpy_row(gguf::GgmlType type, int64_t n, float a, const void* x, float* y,
                         float* scratch) const noexcept {
    if (type == gguf::GgmlType::F32) return axpy(n, a, static_cast<const float*>(x), y);
    if (type == gguf::GgmlType::F16 && float_.axpy_f16 != nullptr) {
        return float_.axpy_f16(n, a, static_cast<const uint16_t*>(x), y);
    }
    quant::find_quant_type(type)->dequantize_row(x, scratch, n);
    axpy(n, a, scratch, y);
}

void KernelSet::to_float(gguf::GgmlType type, const void* x, float* out, int64_t n) const noexcept {
    if (type == gguf::GgmlType::F16 && float_.f16_to_f32 != nullptr) {
        return float_.f16_to_f32(n, static_cast<const uint16_t*>(x), out);
    }
    quant::find_quant_type(type)->dequantize_row(x, out, n);
}

void KernelSet::gelu_mul(float* gate, const float* up, int64_t n) const noexcept {
    if (float_.gelu_mul != nullptr) return float_.gelu_mul(gelu_table_.data(), gate, up, n);
    for (int64_t i = 0; i < n; ++i) gate[i] = gelu_tanh(gate[i]) * up[i];
}

bool KernelSet::simd_aligned(gguf::GgmlType type, const uint8_t* data, size_t row_bytes) noexcept {
    // Blocks hold 16-bit scales and F32 rows floats: the SIMD kernels read them in place.
    const size_t need = type == gguf::GgmlType::F32 ? 4 : 2;
    return reinterpret_cast<uintptr_t>(data) % need == 0 && row_bytes % need == 0;
}

quant::VecDotFn KernelSet::vec_dot(gguf::GgmlType type) const {
    const auto id = static_cast<size_t>(type);
    return id < kTypes ? dots_[id] : nullptr;
}

bool KernelSet::accelerated(gguf::GgmlType type) const {
    const auto id = static_cast<size_t>(type);
    return id < kTypes && rows_[id] != nullptr;
}

namespace {

// Rows per chunk when splitting n_out rows over threads: about four chunks per thread.
size_t row_grain(int64_t n_out, unsigned threads) {
    return std::max<size_t>(1, static_cast<size_t>(n_out) / (4 * static_cast<size_t>(threads)));
}

}  // namespace

void KernelSet::matmul(ThreadPool& pool, const Matrix& w, const float* x, size_t x_stride, uint32_t n, float* y,
                       size_t y_stride, uint8_t* scratch) const {
    // Activation rows start 64-byte aligned (the SIMD kernels read their fp16 scales as
    // 2-byte fields; every row size is even): the scratch's own address may be anything.
    scratch += (64 - reinterpret_cast<uintptr_t>(scratch) % 64) % 64;
    const size_t rb = activation_row_bytes(w.type, w.n_in);
    const GemmKernels& gemm = gemm_[static_cast<size_t>(w.type)];
    if (gemm.gemm != nullptr && n >= gemm.min_tokens && w.n_in % gemm.n_in_multiple == 0 &&
        simd_aligned(w.type, w.data, w.row_bytes)) {
        for (uint32_t t0 = 0; t0 < n; t0 += kGemmMaxTokens) {
            const uint32_t m = std::min(kGemmMaxTokens, n - t0);
            const uint32_t m_pad = (m + 15) / 16 * 16;
            uint8_t* packed = scratch + size_t{m} * rb;
            packed += (64 - reinterpret_cast<uintptr_t>(packed) % 64) % 64;
            // Groups of 16 tokens per chunk: one thread writes all of a group's bytes.
            pool.for_range(m_pad, 16, [&](size_t begin, size_t end, unsigned) {
                for (size_t t = begin; t < end; ++t) {
                    if (t >= m) {
                        gemm.pack(nullptr, static_cast<int64_t>(t), w.n_in, packed);
                        continue;
                    }
                    uint8_t* row = scratch + t * rb;
                    convert(w.type, x + (t0 + t) * x_stride, w.n_in, row);
                    gemm.pack(row, static_cast<int64_t>(t), w.n_in, packed);
                }
            });
            // Chunks of rows in multiples of the kernels' 4-row tile.
            const size_t grain = (row_grain(w.n_out, pool.size()) + 3) / 4 * 4;
            pool.for_range(static_cast<size_t>(w.n_out), grain, [&](size_t begin, size_t end, unsigned) {
                gemm.gemm(GemmArgs{w.data, w.row_bytes, w.n_in, packed, m, y + size_t{t0} * y_stride,
                                   static_cast<int64_t>(y_stride), static_cast<int64_t>(begin),
                                   static_cast<int64_t>(end)});
            });
        }
        return;
    }
    pool.for_range(n, 1, [&](size_t begin, size_t end, unsigned) {
        for (size_t t = begin; t < end; ++t) convert(w.type, x + t * x_stride, w.n_in, scratch + t * rb);
    });
    pool.for_range(static_cast<size_t>(w.n_out), row_grain(w.n_out, pool.size()),
                   [&](size_t begin, size_t end, unsigned) {
                       matmul_rows(w, scratch, rb, n, y, static_cast<int64_t>(y_stride), static_cast<int64_t>(begin),
                                   static_cast<int64_t>(end));
                   });
}

void KernelSet::convert(gguf::GgmlType w_type, const float* x, int64_t n_in, uint8_t* out) const noexcept {
    const GemmKernels& gemm = gemm_[static_cast<size_t>(w_type)];
    if (gemm.convert != nullptr) return gemm.convert(x, n_in, out);
    convert_activations(w_type, x, n_in, out);
}

void KernelSet::matmul_rows(const Matrix& w, const uint8_t* xq, size_t xq_stride, int64_t n_tokens, float* y,
                            int64_t y_stride, int64_t r0, int64_t r1) const noexcept {
    const RowsFn rows = rows_[static_cast<size_t>(w.type)];
    if (rows != nullptr && simd_aligned(w.type, w.data, w.row_bytes)) {
        rows(RowsArgs{w.data, w.row_bytes, w.n_in, xq, xq_stride, n_tokens, y, y_stride, r0, r1});
        return;
    }
    // No SIMD kernel, or rows the SIMD kernels may not read (a hostile file's alignment
    // can put them anywhere): the reference reads any address.
    kernels::matmul_rows(w, xq, xq_stride, n_tokens, y, y_stride, r0, r1);
}

}  // namespace loom::kernels

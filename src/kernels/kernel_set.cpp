// Kernel selection and the row loop of the matrix product.
#include "kernels/kernel_set.h"

#include <string>

#include "core/error.h"
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
        const quant::VecDotFn fast = x86_vec_dot(q.type, isa);
        dots_[id] = fast != nullptr ? fast : q.vec_dot;
        simd_[id] = fast != nullptr;
    }
}

quant::VecDotFn KernelSet::vec_dot(gguf::GgmlType type) const {
    const auto id = static_cast<size_t>(type);
    return id < kTypes ? dots_[id] : nullptr;
}

bool KernelSet::accelerated(gguf::GgmlType type) const {
    const auto id = static_cast<size_t>(type);
    return id < kTypes && simd_[id];
}

void KernelSet::matmul_rows(const Matrix& w, const uint8_t* xq, size_t xq_stride, int64_t n_tokens, float* y,
                            int64_t y_stride, int64_t r0, int64_t r1) const noexcept {
    const quant::VecDotFn dot = dots_[static_cast<size_t>(w.type)];
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes;
        for (int64_t t = 0; t < n_tokens; ++t) {
            y[t * y_stride + r] = dot(w.n_in, row, xq + static_cast<size_t>(t) * xq_stride);
        }
    }
}

}  // namespace loom::kernels

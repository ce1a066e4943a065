// Dispatch to the per-level SIMD kernel files.
#include "kernels/x86_dots.h"

namespace loom::kernels {

SimdKernels x86_kernels(gguf::GgmlType type, Isa isa) {
#if defined(__x86_64__)
    switch (isa) {
        case Isa::Avx2:
            return avx2::kernels_for(type);
        case Isa::Avx512Vnni:
            return avx512vnni::kernels_for(type);
        case Isa::Scalar:
            break;
    }
#else
    (void)type;
    (void)isa;
#endif
    return {};
}

}  // namespace loom::kernels

namespace loom::kernels {

FloatKernels x86_float_kernels(Isa isa) {
#if defined(__x86_64__)
    if (isa == Isa::Avx2) return avx2::float_kernels();
    if (isa == Isa::Avx512Vnni) return avx512vnni::float_kernels();
#else
    (void)isa;
#endif
    return {};
}

}  // namespace loom::kernels

namespace loom::kernels {

GemmKernels x86_gemm_kernels(gguf::GgmlType type, Isa isa) {
#if defined(__x86_64__)
    if (isa == Isa::Avx512Vnni) return avx512vnni::gemm_kernels_for(type);
#else
    (void)type;
    (void)isa;
#endif
    return {};
}

}  // namespace loom::kernels

// The x86 SIMD kernels at the AVX2 level (this file is compiled with -mavx2 -mfma -mf16c).
#define LOOM_SIMD_NS avx2
#define LOOM_SIMD_VNNI 0
#include "kernels/x86_simd_impl.h"

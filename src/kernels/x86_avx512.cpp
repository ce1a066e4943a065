// The x86 SIMD kernels at the AVX-512 VNNI level (this file is compiled with the AVX2
// flags plus -mavx512f -mavx512vl -mavx512bw -mavx512vnni): dpbusd for the 8-bit dots.
#define LOOM_SIMD_NS avx512vnni
#define LOOM_SIMD_VNNI 1
#include "kernels/x86_simd_impl.h"

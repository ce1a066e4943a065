// SIMD dot products of a weight row with an activation row in its dot-partner type, for
// x86-64: the same contract and result as the reference vec_dot of src/quant/ (integer
// block dots exact; float sums in another order, so the last bits differ). Compiled with
// per-function target attributes, so the binary runs on any x86-64 and only the
// dispatcher (KernelSet) decides which run.
#pragma once

#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"
#include "quant/quant_type.h"

namespace loom::kernels {

// The SIMD vec_dot for a weight type at an ISA level (Avx2 or Avx512Vnni), or nullptr
// when there is none for that type (callers fall back to the reference).
quant::VecDotFn x86_vec_dot(gguf::GgmlType type, Isa isa);

}  // namespace loom::kernels

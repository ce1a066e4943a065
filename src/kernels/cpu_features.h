// The instruction-set levels Loom has kernels for, and which of them this CPU runs.
// Detection is cpuid through the compiler's __builtin_cpu_supports: no global state.
#pragma once

#include <optional>
#include <string_view>

namespace loom::kernels {

enum class Isa {
    Scalar,      // the reference kernels (src/quant/, plain C++)
    Avx2,        // AVX2 + FMA + F16C
    Avx512Vnni,  // the AVX2 kernels with AVX-512 VNNI (VL) integer dot products
};

// The best level this CPU supports.
Isa detect_isa();
bool isa_supported(Isa isa);
std::string_view isa_name(Isa isa);  // "scalar", "avx2", "avx512-vnni"
std::optional<Isa> parse_isa(std::string_view name);

}  // namespace loom::kernels

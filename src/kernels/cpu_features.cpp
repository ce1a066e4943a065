// CPU feature detection.
#include "kernels/cpu_features.h"

namespace loom::kernels {

bool isa_supported(Isa isa) {
    switch (isa) {
        case Isa::Scalar:
            return true;
        case Isa::Avx2:
#if defined(__x86_64__)
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("f16c");
#else
            return false;
#endif
        case Isa::Avx512Vnni:
#if defined(__x86_64__)
            return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vnni");
#else
            return false;
#endif
    }
    return false;
}

Isa detect_isa() {
    if (isa_supported(Isa::Avx512Vnni)) return Isa::Avx512Vnni;
    if (isa_supported(Isa::Avx2)) return Isa::Avx2;
    return Isa::Scalar;
}

std::string_view isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar:
            return "scalar";
        case Isa::Avx2:
            return "avx2";
        case Isa::Avx512Vnni:
            return "avx512-vnni";
    }
    return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512Vnni}) {
        if (isa_name(isa) == name) return isa;
    }
    return std::nullopt;
}

}  // namespace loom::kernels

// The table of every architecture Loom runs. Adding one: a spec in arch/<name>.cpp and
// a line here.
#include <array>

#include "model/arch.h"

namespace loom::model {
namespace arch {
extern const ArchSpec kLlama;
extern const ArchSpec kGemma3;
extern const ArchSpec kQwen2;
extern const ArchSpec kQwen3;
extern const ArchSpec kQwen2Moe;
extern const ArchSpec kQwen3Moe;
extern const ArchSpec kPhi3;
}  // namespace arch

namespace {
const std::array<const ArchSpec*, 7> kArchs = {&arch::kLlama, &arch::kGemma3, &arch::kQwen2,   &arch::kQwen3,
                                                &arch::kQwen2Moe, &arch::kQwen3Moe, &arch::kPhi3};
}  // namespace

std::span<const ArchSpec* const> all_archs() { return kArchs; }

const ArchSpec* find_arch(std::string_view name) {
    for (const ArchSpec* spec : kArchs) {
        if (spec->name == name) return spec;
    }
    return nullptr;
}

}  // namespace loom::model

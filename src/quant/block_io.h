// Loading and storing one quant block at a byte address, for the reference kernels of
// src/quant/. Blocks are copied with memcpy, so the reference accepts any alignment
// (a row may start at any byte of a mapped file) and never type-puns. Little-endian
// hosts only: every block layout in GGUF is little-endian (ggml src/ggml-common.h).
// Not for fast kernels: those read blocks in place.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace loom::quant {

static_assert(std::endian::native == std::endian::little,
              "the GGUF block layouts are little-endian; a big-endian host needs byte swaps");

// Elements per block of the legacy types (QK4_0 ... QK8_1, QK4_NL) and of the k-quant
// super-blocks (QK_K), as in ggml-common.h.
constexpr int64_t kQK = 32;
constexpr int64_t kQK_K = 256;

template <typename Block>
Block load_block(const void* blocks, int64_t index) noexcept {
    static_assert(std::is_trivially_copyable_v<Block>);
    Block block;
    std::memcpy(&block, static_cast<const uint8_t*>(blocks) + index * sizeof(Block),
                sizeof(Block));
    return block;
}

template <typename Block>
void store_block(void* blocks, int64_t index, const Block& block) noexcept {
    static_assert(std::is_trivially_copyable_v<Block>);
    std::memcpy(static_cast<uint8_t*>(blocks) + index * sizeof(Block), &block, sizeof(Block));
}

}  // namespace loom::quant

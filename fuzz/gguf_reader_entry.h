// The GGUF reader fuzz entry: parse arbitrary bytes, and when they parse, walk every
// value, tensor and summary fact the way `loom inspect` does. Shared by the libFuzzer
// target and by the corpus replay test of the normal build.
#pragma once

#include <cstddef>
#include <cstdint>

namespace loom::fuzz {

// Never throws; returns 0 (libFuzzer's convention).
int gguf_reader_one_input(const uint8_t* data, size_t size);

}  // namespace loom::fuzz

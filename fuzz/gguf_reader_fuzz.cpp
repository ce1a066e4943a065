// libFuzzer target for the GGUF reader. Build with clang and -DLOOM_FUZZ=ON, then run
// scripts/fuzz.sh (it keeps the corpus in fuzz/corpus/gguf_reader/).
#include <cstddef>
#include <cstdint>

#include "fuzz/gguf_reader_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return loom::fuzz::gguf_reader_one_input(data, size);
}

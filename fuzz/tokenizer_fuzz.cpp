// libFuzzer target for the tokenizers (scripts/fuzz.sh tokenizer). Vocabularies come
// from LOOM_FIXTURES (default: the fixtures folder the build was configured with).
#include <cstdlib>
#include <string>

#include "fuzz/tokenizer_entry.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* dir = std::getenv("LOOM_FIXTURES");
    if (!loom::fuzz::tokenizer_init(dir != nullptr ? dir : LOOM_FIXTURES_DIR)) std::abort();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return loom::fuzz::tokenizer_one_input(data, size);
}

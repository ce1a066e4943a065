// libFuzzer target for the Jinja parser and interpreter (scripts/fuzz.sh jinja).
#include "fuzz/jinja_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return loom::fuzz::jinja_one_input(data, size);
}

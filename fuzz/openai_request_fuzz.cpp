// libFuzzer target for the OpenAI request parsers and response formatting
// (scripts/fuzz.sh openai_request). The entry is also compiled into the server tests,
// which replay fuzz/corpus/openai_request/ through it.
#include "openai_request_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return loom::fuzz::openai_request_one_input(data, size);
}

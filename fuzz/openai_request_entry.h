// The OpenAI request fuzz entry: arbitrary bytes as the body of a chat completion, a
// text completion and an embeddings request. Request bodies come from any client, so
// the only outcome allowed besides success is ApiError (400), and every success must
// hold the parsers' documented invariants; a violation aborts. The bytes are also
// formatted as token text, which must always give valid JSON with the exact bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace loom::fuzz {

int openai_request_one_input(const uint8_t* data, size_t size);

}  // namespace loom::fuzz

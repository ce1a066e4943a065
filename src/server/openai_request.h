// Parsing and validation of OpenAI API request bodies into the plain structs of
// openai_types.h: POST /v1/chat/completions, /v1/completions and /v1/embeddings.
// JSON stops here: the scheduler gets the structs (ChatRequest::messages stays JSON,
// shaped for the chat template).
//
//   try {
//       ChatRequest r = parse_chat_request(http_request.body);
//       ...
//   } catch (const ApiError& e) {
//       respond(e.status, error_body(e));            // openai_format.h
//   }
//
// Errors: every refusal is ApiError with status 400, type "invalid_request_error",
// `param` naming the offending field with its path ("messages[1].content[0].type",
// "logit_bias.50256", "input[3]"; empty for the body as a whole) and a message that
// says what is wrong, what was expected and what was got. Nothing else is thrown
// (other than std::bad_alloc). Refused:
//   - the body: empty, malformed JSON (with the byte offset), not UTF-8, nested deeper
//     than 128 levels, an object with more than 1024 members (65536 in all), not an object;
//   - a field of the wrong type; a number out of its range (temperature [0, 2], top_p
//     and min_p [0, 1], presence/frequency_penalty [-2, 2], repeat_penalty > 0, top_k
//     >= 0, top_logprobs [0, 20], completions' logprobs [0, 5], logit_bias values
//     [-100, 100], max_tokens / max_completion_tokens >= 1);
//   - logit_bias keys that are not token ids; stop with more than 4 entries;
//     n != 1 ("n > 1 is not supported"); best_of > 1; a completion suffix;
//   - chat: missing or empty messages, an unknown role (system, developer, user,
//     assistant, tool are valid), content that is neither a string nor an array of
//     text parts (image/audio/file parts: "not supported"), null content except on an
//     assistant message with tool_calls, tool_calls not an array of function calls;
//   - structured-output fields (openai_structured.h): malformed tools, an unknown or
//     unsatisfiable tool_choice, response_format of an unknown type or without a schema,
//     response_format combined with tools, the deprecated functions / function_call;
//   - completions: a missing or empty prompt, several prompts ("batched prompts are not
//     supported");
//   - embeddings: a missing input, an empty one, more than 2048, encoding_format other
//     than "float" / "base64", dimensions.
// Unknown fields are ignored; a field set to null counts as absent. Accepted leniently:
// a model name of any value (one model is served), empty strings in stop (dropped),
// stream_options when not streaming (ignored), an empty tools array.
#pragma once

#include <string_view>

#include "server/openai_types.h"

namespace loom::server {

// Messages: each becomes {"role", "content": string, …the message's other non-null
// fields in their order}; text parts are joined with "\n"; null content becomes "";
// an empty tool_calls array is dropped.
ChatRequest parse_chat_request(std::string_view body);

// logprobs N (0..5) sets sampling.logprobs and sampling.top_logprobs = N.
CompletionRequest parse_completion_request(std::string_view body);

EmbeddingRequest parse_embedding_request(std::string_view body);

}  // namespace loom::server

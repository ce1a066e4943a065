// Formatting of OpenAI API responses: the JSON text of each response body and of each
// streamed chunk, from the plain structs of openai_types.h. JSON starts here on the way
// out; the HTTP layer adds framing (`data: …\n\n` for streamed chunks, then
// `data: [DONE]\n\n`, via sse_event in http_response.h).
//
//   // streamed chat completion
//   send(chat_chunk_role(meta));
//   for each piece: send(chat_chunk_delta(meta, piece_text, piece_logprobs));
//   send(chat_chunk_finish(meta, "stop"));
//   if (include_usage) send(usage_chunk(meta, true, n_prompt, n_completion));
//
// Text: token texts may be partial UTF-8 (a byte-level token cut inside a character).
// Nothing here throws on such text: invalid sequences are replaced by U+FFFD in JSON
// strings, and chat logprobs carry each token's exact bytes in "bytes". Log-probabilities
// that are not finite (a token the sampler had masked out) are written as -9999.0, the
// value OpenAI uses for "very unlikely"; floats are written with the fewest digits that
// read back to the same float.
//
// Not here: SSE and HTTP framing, ids and timestamps (ResponseMeta is filled by the
// caller), deciding when to send which chunk. Reference: OpenAI API reference, the
// chat completion / chunk, completion, embedding, model and error objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/openai_types.h"

namespace loom::server {

// {"error": {"message", "type", "param", "code"}}, null for an empty param or code.
std::string error_body(const ApiError& error);

// --- /v1/chat/completions --------------------------------------------------------

// "chat.completion": choices[0] {index 0, message {role "assistant", content}, logprobs,
// finish_reason}, usage. logprobs: {"content": [{token, logprob, bytes, top_logprobs:
// [{token, logprob, bytes}, …]}, …]} from result.logprobs when asked, else null.
std::string chat_completion_body(const ResponseMeta& meta, const GenerationResult& result,
                                 bool logprobs);

// "chat.completion.chunk" objects, each with one choice (index 0):
// the first, delta {role "assistant", content ""};
std::string chat_chunk_role(const ResponseMeta& meta);
// one piece of text, delta {content}; logprobs {"content": […]} for the tokens that made
// the piece, or null when the span is empty;
std::string chat_chunk_delta(const ResponseMeta& meta, std::string_view text,
                             std::span<const TokenLogprob> logprobs = {});
// the last, an empty delta and the finish_reason ("stop", "length").
std::string chat_chunk_finish(const ResponseMeta& meta, std::string_view finish_reason);
// One tool call, whole (name and the complete arguments JSON in one delta), as the
// index-th entry of delta.tool_calls.
std::string chat_chunk_tool_call(const ResponseMeta& meta, size_t index, const ToolCallResult& call);

// The chunk sent after the last one when stream_options.include_usage is set:
// choices [] and usage. `chat` picks the object name ("chat.completion.chunk" or
// "text_completion").
std::string usage_chunk(const ResponseMeta& meta, bool chat, uint32_t prompt_tokens,
                        uint32_t completion_tokens);

// --- /v1/completions -------------------------------------------------------------

// "text_completion": choices[0] {text, index 0, logprobs, finish_reason}, usage.
// text is echoed_prompt + result.text (echo: pass the prompt's text, else nothing).
// logprobs when asked: {tokens, token_logprobs, top_logprobs, text_offset}; each
// top_logprobs entry maps token text to logprob for result.logprobs[i].top plus the
// sampled token (OpenAI: "up to logprobs+1 elements"); text_offset counts characters
// (code points) from the start of the returned text, so it starts after an echoed
// prompt. An empty finish_reason is written as null.
std::string completion_body(const ResponseMeta& meta, const GenerationResult& result, bool logprobs,
                            std::string_view echoed_prompt = {});

// A streamed "text_completion" chunk: choices[0] {text, index 0, logprobs,
// finish_reason (null when empty)}. logprobs as in completion_body for the tokens in
// the span (null when empty), with text_offset starting at `text_offset`: the
// characters already sent (add utf8_length of each chunk's text).
std::string completion_chunk(const ResponseMeta& meta, std::string_view text,
                             std::string_view finish_reason,
                             std::span<const TokenLogprob> logprobs = {}, size_t text_offset = 0);

// Characters in `text` as text_offset counts them: bytes that do not continue a UTF-8
// sequence (for valid UTF-8, the number of code points).
size_t utf8_length(std::string_view text);

// --- /v1/embeddings --------------------------------------------------------------

// {"object": "list", "data": [{"object": "embedding", "index", "embedding"}, …], "model",
// "usage": {prompt_tokens, total_tokens}}. embedding: an array of numbers, or with
// `base64` a string: the base64 (RFC 4648 §4, padded) of the little-endian float32
// values. A non-finite value (a model bug) is written as null in the array form.
std::string embeddings_body(std::string_view model,
                            const std::vector<std::vector<float>>& embeddings, bool base64,
                            uint32_t prompt_tokens);

// --- /v1/models ------------------------------------------------------------------

// GET /v1/models: {"object": "list", "data": [model_body's object]}.
std::string models_body(std::string_view id, int64_t created, std::string_view owned_by);
// GET /v1/models/{id}: {"id", "object": "model", "created", "owned_by"}.
std::string model_body(std::string_view id, int64_t created, std::string_view owned_by);

}  // namespace loom::server

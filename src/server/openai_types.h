// The OpenAI API's requests and results as plain structs: what the HTTP workers parse a
// request body into (src/server/openai_request.cpp) and what they format a generation
// back from (src/server/openai_format.cpp). The scheduler sees only these, never JSON.
//
// Shapes follow OpenAI's API reference for /v1/chat/completions, /v1/completions and
// /v1/embeddings; unknown request fields are ignored as OpenAI ignores them.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom::server {

// A request the API refuses: the HTTP status and OpenAI's error object
// {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
    ApiError(int status_, std::string message, std::string param_ = {}, std::string code_ = {},
             std::string type_ = "invalid_request_error")
        : std::runtime_error(std::move(message)), status(status_), param(std::move(param_)), code(std::move(code_)),
          type(std::move(type_)) {}
    int status;
    std::string param;  // the offending field, e.g. "messages[2].role"; empty: null
    std::string code;   // e.g. "context_length_exceeded"; empty: null
    std::string type;   // "invalid_request_error", "authentication_error", "server_error", …
};

// Sampling and stopping options shared by chat and text completions. Absent values take
// the server's defaults (those of `loom run`).
struct SamplingRequest {
    std::optional<float> temperature;        // [0, 2]
    std::optional<float> top_p;              // [0, 1]
    std::optional<int32_t> top_k;            // >= 0 (llama.cpp extension)
    std::optional<float> min_p;              // [0, 1] (llama.cpp extension)
    std::optional<float> presence_penalty;   // [-2, 2]
    std::optional<float> frequency_penalty;  // [-2, 2]
    std::optional<float> repeat_penalty;     // > 0 (llama.cpp extension)
    std::optional<uint64_t> seed;
    std::optional<uint32_t> max_tokens;      // max_tokens or max_completion_tokens, >= 1
    std::vector<std::string> stop;           // string or array of up to 4 non-empty strings
    std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> bias in [-100, 100]
    bool logprobs = false;
    uint32_t top_logprobs = 0;               // [0, 20]; needs logprobs (chat)
};

// response_format: free text, any JSON object, or JSON that validates against a schema.
struct ResponseFormat {
    enum class Kind { Text, JsonObject, JsonSchema };
    Kind kind = Kind::Text;
    nlohmann::ordered_json schema;  // JsonSchema: response_format.json_schema.schema
    std::string name;               // response_format.json_schema.name
    bool strict = false;            // honoured either way: the grammar always enforces the schema
};

// tool_choice: "auto" (the model decides), "none" (text only), "required" (at least one
// call), or one named function.
struct ToolChoice {
    enum class Mode { Auto, None, Required, Named };
    Mode mode = Mode::Auto;
    std::string name;  // Named
};

// The structured-output fields of a chat request (tools as OpenAI sends them:
// [{"type": "function", "function": {"name", "description", "parameters"}}], validated).
struct StructuredRequest {
    nlohmann::ordered_json tools = nlohmann::ordered_json::array();
    ToolChoice tool_choice;
    bool parallel_tool_calls = true;
    ResponseFormat response_format;
};

struct ChatRequest {
    std::string model;
    // The messages as the chat template sees them: each an object with "role" (system,
    // developer, user, assistant, tool) and "content" as a string (array-of-text-parts
    // content is joined into one string here). Validated; order kept.
    nlohmann::ordered_json messages;
    SamplingRequest sampling;
    StructuredRequest structured;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
};

struct CompletionRequest {
    std::string model;
    // Exactly one of the two: the prompt as text, or as token ids.
    std::string prompt_text;
    std::vector<int32_t> prompt_tokens;
    bool prompt_is_tokens = false;
    SamplingRequest sampling;
    bool stream = false;
    bool include_usage = false;
    bool echo = false;  // prepend the prompt to the returned text
    ResponseFormat response_format;
};

struct EmbeddingInput {
    std::string text;
    std::vector<int32_t> tokens;
    bool is_tokens = false;
};

struct EmbeddingRequest {
    std::string model;
    std::vector<EmbeddingInput> inputs;  // a string, an array of strings, token array(s); 1..2048
    bool base64 = false;                 // encoding_format "base64" (else "float")
};

// One generated token's log-probability and the most likely alternatives at its step.
struct TokenLogprob {
    std::string token;  // its text (bytes as generated; may be a partial UTF-8 sequence)
    float logprob = 0.0f;
    std::vector<std::pair<std::string, float>> top;  // most likely first
};

// A tool call the model made, as the response lists it.
struct ToolCallResult {
    std::string id;         // "call_…"
    std::string name;
    std::string arguments;  // JSON text
};

// A finished (or, for streaming, partial) generation.
struct GenerationResult {
    std::string text;
    std::string finish_reason;  // "stop", "length"
    uint32_t prompt_tokens = 0;
    uint32_t completion_tokens = 0;
    std::vector<TokenLogprob> logprobs;  // one per generated token when asked for
    std::vector<ToolCallResult> tool_calls;  // chat: content is null when only calls came
};

// Identity fields every response object carries.
struct ResponseMeta {
    std::string id;       // "chatcmpl-…" / "cmpl-…"
    std::string model;
    int64_t created = 0;  // Unix seconds
};

}  // namespace loom::server

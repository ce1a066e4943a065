// OpenAI request fuzz entry; see openai_request_entry.h.
#include "openai_request_entry.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "server/openai_format.h"
#include "server/openai_request.h"

namespace loom::fuzz {
namespace {

using namespace loom::server;
using Json = nlohmann::json;

void require(bool ok) {
    if (!ok) std::abort();
}

// The error must be a 400 invalid_request_error whose body is valid JSON.
void check_error(const ApiError& e) {
    require(e.status == 400 && e.type == "invalid_request_error" && e.code.empty());
    require(std::string_view(e.what()).size() > 0);
    Json body = Json::parse(error_body(e));  // throws (a crash) if not valid JSON
    require(body["error"]["message"].is_string());
    require(e.param.empty() ? body["error"]["param"].is_null() : body["error"]["param"] == e.param);
}

template <typename Parse>
void run(Parse parse) {
    try {
        parse();
    } catch (const ApiError& e) {
        check_error(e);
    }
}

void check_sampling(const SamplingRequest& s, bool chat) {
    require(!s.temperature || (*s.temperature >= 0.0f && *s.temperature <= 2.0f));
    require(!s.top_p || (*s.top_p >= 0.0f && *s.top_p <= 1.0f));
    require(!s.min_p || (*s.min_p >= 0.0f && *s.min_p <= 1.0f));
    require(!s.top_k || *s.top_k >= 0);
    require(!s.presence_penalty || std::fabs(*s.presence_penalty) <= 2.0f);
    require(!s.frequency_penalty || std::fabs(*s.frequency_penalty) <= 2.0f);
    require(!s.repeat_penalty || (*s.repeat_penalty > 0.0f && std::isfinite(*s.repeat_penalty)));
    require(!s.max_tokens || *s.max_tokens >= 1);
    require(s.stop.size() <= 4);
    for (const auto& stop : s.stop) require(!stop.empty());
    for (const auto& [id, bias] : s.logit_bias) {
        require(id >= 0 && bias >= -100.0f && bias <= 100.0f);
    }
    require(s.top_logprobs <= (chat ? 20u : 5u));
    require(s.top_logprobs == 0 || s.logprobs);
}

void check_chat(std::string_view body) {
    ChatRequest r = parse_chat_request(body);
    require(r.messages.is_array() && !r.messages.empty());
    for (const auto& m : r.messages) {
        require(m.is_object() && m.size() >= 2 && m.begin().key() == "role" &&
                m.begin().value().is_string());
        std::string role = m.at("role");
        require(role == "system" || role == "developer" || role == "user" || role == "assistant" ||
                role == "tool");
        require(m.contains("content") && m.at("content").is_string());
        for (const auto& [key, value] : m.items()) require(!value.is_null());
    }
    r.messages.dump();  // strict: every string kept must be valid UTF-8 (throws otherwise)
    check_sampling(r.sampling, true);
    require(!r.include_usage || r.stream);
}

void check_completion(std::string_view body) {
    CompletionRequest r = parse_completion_request(body);
    if (r.prompt_is_tokens) {
        require(!r.prompt_tokens.empty() && r.prompt_text.empty());
        for (int32_t id : r.prompt_tokens) require(id >= 0);
    } else {
        require(r.prompt_tokens.empty());
    }
    check_sampling(r.sampling, false);
    require(!r.include_usage || r.stream);
}

void check_embedding(std::string_view body) {
    EmbeddingRequest r = parse_embedding_request(body);
    require(!r.inputs.empty() && r.inputs.size() <= 2048);
    for (const auto& in : r.inputs) {
        require(in.is_tokens ? !in.tokens.empty() && in.text.empty()
                             : !in.text.empty() && in.tokens.empty());
        for (int32_t id : in.tokens) require(id >= 0);
    }
}

// The bytes as a generated token: the chunk must be valid JSON (invalid UTF-8
// replaced) and "bytes" must give back exactly the token's bytes.
void check_token_text(std::string_view bytes) {
    TokenLogprob lp;
    lp.token = std::string(bytes);
    lp.logprob = bytes.size() % 2 ? -std::numeric_limits<float>::infinity() : -0.5f;
    lp.top = {{std::string(bytes.substr(0, bytes.size() / 2)), -0.25f}, {lp.token, lp.logprob}};
    ResponseMeta meta{std::string(bytes), std::string(bytes), 0};
    std::span<const TokenLogprob> one(&lp, 1);

    Json chunk = Json::parse(chat_chunk_delta(meta, bytes, one));
    const Json& entry = chunk["choices"][0]["logprobs"]["content"][0];
    require(entry["bytes"].size() == bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
        require(entry["bytes"][i] == static_cast<unsigned char>(bytes[i]));
    }
    require(entry["logprob"].get<double>() <= 0.0);

    Json completion = Json::parse(completion_chunk(meta, bytes, "stop", one, 7));
    require(completion["choices"][0]["logprobs"]["text_offset"][0] == 7);
    Json error = Json::parse(error_body(ApiError(400, std::string(bytes), std::string(bytes))));
    require(error["error"]["message"].is_string());
    require(bytes.empty() ? error["error"]["param"].is_null() : error["error"]["param"].is_string());
}

}  // namespace

int openai_request_one_input(const uint8_t* data, size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    run([&] { check_chat(body); });
    run([&] { check_completion(body); });
    run([&] { check_embedding(body); });
    check_token_text(body.substr(0, 64));  // token texts are short
    return 0;
}

}  // namespace loom::fuzz

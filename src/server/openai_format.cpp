// OpenAI response bodies and stream chunks as JSON text; see openai_format.h. Objects are
// built with nlohmann's ordered_json (fields in the order of OpenAI's reference) and
// dumped with invalid UTF-8 replaced; embeddings are written directly, since one
// response may hold millions of floats.
#include "server/openai_format.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace loom::server {

namespace {

using Json = nlohmann::ordered_json;

// OpenAI's stand-in for the log-probability of a token that cannot be sampled.
constexpr double kUnlikelyLogprob = -9999.0;

std::string dump(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The double that prints as the shortest decimal reading back to `f`, so 0.1f is
// written "0.1", not "0.10000000149011612".
double short_double(float f) {
    char buf[32];
    auto end = std::to_chars(buf, buf + sizeof buf, f).ptr;
    double d = 0.0;
    std::from_chars(buf, end, d);
    return d;
}

double logprob_value(float logprob) {
    return std::isfinite(logprob) ? short_double(logprob) : kUnlikelyLogprob;
}

Json nullable(std::string_view s) { return s.empty() ? Json(nullptr) : Json(s); }

Json response_head(const ResponseMeta& meta, const char* object) {
    Json j = Json::object();
    j["id"] = meta.id;
    j["object"] = object;
    j["created"] = meta.created;
    j["model"] = meta.model;
    return j;
}

Json usage_object(uint32_t prompt_tokens, uint32_t completion_tokens) {
    Json usage = Json::object();
    usage["prompt_tokens"] = prompt_tokens;
    usage["completion_tokens"] = completion_tokens;
    usage["total_tokens"] = uint64_t{prompt_tokens} + completion_tokens;
    return usage;
}

Json array_of(Json element) {
    Json array = Json::array();
    array.push_back(std::move(element));
    return array;
}

// --- chat logprobs: {"content": [{token, logprob, bytes, top_logprobs}, …]} ---

Json token_bytes(std::string_view token) {
    Json bytes = Json::array();
    for (char c : token) bytes.push_back(static_cast<unsigned char>(c));
    return bytes;
}

Json chat_token(std::string_view token, float logprob) {
    Json j = Json::object();
    j["token"] = token;
    j["logprob"] = logprob_value(logprob);
    j["bytes"] = token_bytes(token);
    return j;
}

Json chat_logprobs(std::span<const TokenLogprob> tokens) {
    Json content = Json::array();
    for (const TokenLogprob& t : tokens) {
        Json entry = chat_token(t.token, t.logprob);
        Json top = Json::array();
        for (const auto& [text, logprob] : t.top) top.push_back(chat_token(text, logprob));
        entry["top_logprobs"] = std::move(top);
        content.push_back(std::move(entry));
    }
    Json j = Json::object();
    j["content"] = std::move(content);
    return j;
}

// --- completion logprobs: {tokens, token_logprobs, top_logprobs, text_offset} ---

Json completion_logprobs(std::span<const TokenLogprob> tokens, size_t text_offset) {
    Json texts = Json::array(), logprobs = Json::array(), tops = Json::array(),
         offsets = Json::array();
    for (const TokenLogprob& t : tokens) {
        texts.push_back(t.token);
        logprobs.push_back(logprob_value(t.logprob));
        // A map from token text: the first (most likely) of equal texts is kept.
        Json top = Json::object();
        for (const auto& [text, logprob] : t.top) top.emplace(text, logprob_value(logprob));
        top.emplace(t.token, logprob_value(t.logprob));
        tops.push_back(std::move(top));
        offsets.push_back(text_offset);
        text_offset += utf8_length(t.token);
    }
    Json j = Json::object();
    j["tokens"] = std::move(texts);
    j["token_logprobs"] = std::move(logprobs);
    j["top_logprobs"] = std::move(tops);
    j["text_offset"] = std::move(offsets);
    return j;
}

std::string chat_chunk(const ResponseMeta& meta, Json delta, Json logprobs, Json finish_reason) {
    Json choice = Json::object();
    choice["index"] = 0;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = std::move(logprobs);
    choice["finish_reason"] = std::move(finish_reason);
    Json j = response_head(meta, "chat.completion.chunk");
    j["choices"] = array_of(std::move(choice));
    return dump(j);
}

Json model_object(std::string_view id, int64_t created, std::string_view owned_by) {
    Json j = Json::object();
    j["id"] = id;
    j["object"] = "model";
    j["created"] = created;
    j["owned_by"] = owned_by;
    return j;
}

// --- embeddings -----------------------------------------------------------------

void append_base64(std::string& out, const std::vector<float>& values) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    bytes.reserve(values.size() * 4);
    for (float v : values) {
        uint32_t bits = std::bit_cast<uint32_t>(v);
        for (int shift = 0; shift < 32; shift += 8) {
            bytes.push_back(static_cast<char>((bits >> shift) & 0xFF));
        }
    }
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16 |
                     uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8 |
                     static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[n >> 18];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    size_t left = bytes.size() - i;
    if (left == 0) return;
    uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (left == 2) n |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += left == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
}

void append_floats(std::string& out, const std::vector<float>& values) {
    out += '[';
    char buf[32];
    for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        if (!std::isfinite(values[i])) {
            out += "null";
            continue;
        }
        out.append(buf, std::to_chars(buf, buf + sizeof buf, values[i]).ptr);
    }
    out += ']';
}

}  // namespace

std::string error_body(const ApiError& error) {
    Json inner = Json::object();
    inner["message"] = error.what();
    inner["type"] = error.type;
    inner["param"] = nullable(error.param);
    inner["code"] = nullable(error.code);
    Json j = Json::object();
    j["error"] = std::move(inner);
    return dump(j);
}

std::string chat_completion_body(const ResponseMeta& meta, const GenerationResult& result,
                                 bool logprobs) {
    Json message = Json::object();
    message["role"] = "assistant";
    message["content"] = result.tool_calls.empty() || !result.text.empty() ? Json(result.text) : Json(nullptr);
    if (!result.tool_calls.empty()) {
        Json calls = Json::array();
        for (const ToolCallResult& c : result.tool_calls) {
            calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        }
        message["tool_calls"] = std::move(calls);
    }
    Json choice = Json::object();
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["logprobs"] = logprobs ? chat_logprobs(result.logprobs) : Json(nullptr);
    choice["finish_reason"] = nullable(result.finish_reason);
    Json j = response_head(meta, "chat.completion");
    j["choices"] = array_of(std::move(choice));
    j["usage"] = usage_object(result.prompt_tokens, result.completion_tokens);
    return dump(j);
}

std::string chat_chunk_role(const ResponseMeta& meta) {
    Json delta = Json::object();
    delta["role"] = "assistant";
    delta["content"] = "";
    return chat_chunk(meta, std::move(delta), nullptr, nullptr);
}

std::string chat_chunk_delta(const ResponseMeta& meta, std::string_view text,
                             std::span<const TokenLogprob> logprobs) {
    Json delta = Json::object();
    delta["content"] = text;
    return chat_chunk(meta, std::move(delta),
                      logprobs.empty() ? Json(nullptr) : chat_logprobs(logprobs), nullptr);
}

std::string chat_chunk_tool_call(const ResponseMeta& meta, size_t index, const ToolCallResult& call) {
    Json fn = {{"name", call.name}, {"arguments", call.arguments}};
    Json delta = {{"tool_calls", Json::array({{{"index", index}, {"id", call.id}, {"type", "function"}, {"function", fn}}})}};
    return chat_chunk(meta, std::move(delta), nullptr, nullptr);
}

std::string chat_chunk_finish(const ResponseMeta& meta, std::string_view finish_reason) {
    return chat_chunk(meta, Json::object(), nullptr, nullable(finish_reason));
}

std::string usage_chunk(const ResponseMeta& meta, bool chat, uint32_t prompt_tokens,
                        uint32_t completion_tokens) {
    Json j = response_head(meta, chat ? "chat.completion.chunk" : "text_completion");
    j["choices"] = Json::array();
    j["usage"] = usage_object(prompt_tokens, completion_tokens);
    return dump(j);
}

std::string completion_body(const ResponseMeta& meta, const GenerationResult& result, bool logprobs,
                            std::string_view echoed_prompt) {
    std::string text(echoed_prompt);
    text += result.text;
    Json choice = Json::object();
    choice["text"] = std::move(text);
    choice["index"] = 0;
    choice["logprobs"] =
        logprobs ? completion_logprobs(result.logprobs, utf8_length(echoed_prompt)) : Json(nullptr);
    choice["finish_reason"] = nullable(result.finish_reason);
    Json j = response_head(meta, "text_completion");
    j["choices"] = array_of(std::move(choice));
    j["usage"] = usage_object(result.prompt_tokens, result.completion_tokens);
    return dump(j);
}

std::string completion_chunk(const ResponseMeta& meta, std::string_view text,
                             std::string_view finish_reason, std::span<const TokenLogprob> logprobs,
                             size_t text_offset) {
    Json choice = Json::object();
    choice["text"] = text;
    choice["index"] = 0;
    choice["logprobs"] =
        logprobs.empty() ? Json(nullptr) : completion_logprobs(logprobs, text_offset);
    choice["finish_reason"] = nullable(finish_reason);
    Json j = response_head(meta, "text_completion");
    j["choices"] = array_of(std::move(choice));
    return dump(j);
}

size_t utf8_length(std::string_view text) {
    size_t n = 0;
    for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

std::string embeddings_body(std::string_view model,
                            const std::vector<std::vector<float>>& embeddings, bool base64,
                            uint32_t prompt_tokens) {
    std::string out = R"({"object":"list","data":[)";
    for (size_t i = 0; i < embeddings.size(); ++i) {
        if (i > 0) out += ',';
        out += R"({"object":"embedding","index":)";
        out += std::to_string(i);
        out += R"(,"embedding":)";
        if (base64) {
            out += '"';
            append_base64(out, embeddings[i]);
            out += '"';
        } else {
            append_floats(out, embeddings[i]);
        }
        out += '}';
    }
    out += R"(],"model":)";
    out += dump(Json(model));
    out += R"(,"usage":{"prompt_tokens":)";
    out += std::to_string(prompt_tokens);
    out += R"(,"total_tokens":)";
    out += std::to_string(prompt_tokens);
    out += "}}";
    return out;
}

std::string models_body(std::string_view id, int64_t created, std::string_view owned_by) {
    Json j = Json::object();
    j["object"] = "list";
    j["data"] = array_of(model_object(id, created, owned_by));
    return dump(j);
}

std::string model_body(std::string_view id, int64_t created, std::string_view owned_by) {
    return dump(model_object(id, created, owned_by));
}

}  // namespace loom::server

// Tests of the OpenAI response formatting (openai_format.cpp): every body and chunk
// parsed back with nlohmann and checked field by field, base64 embeddings decoded back
// to the same floats, and token texts that are not valid UTF-8.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/openai_format.h"

namespace loom::server {
namespace {

using Json = nlohmann::json;

const ResponseMeta kChat{"chatcmpl-1", "stories260K", 1700000000};
const ResponseMeta kText{"cmpl-1", "stories260K", 1700000001};

void expect_head(const Json& j, const ResponseMeta& meta, const char* object) {
    EXPECT_EQ(j.at("id"), meta.id);
    EXPECT_EQ(j.at("object"), object);
    EXPECT_EQ(j.at("created"), meta.created);
    EXPECT_EQ(j.at("model"), meta.model);
}

void expect_usage(const Json& usage, uint32_t prompt, uint32_t completion) {
    EXPECT_EQ(usage.at("prompt_tokens"), prompt);
    EXPECT_EQ(usage.at("completion_tokens"), completion);
    EXPECT_EQ(usage.at("total_tokens"), prompt + completion);
}

GenerationResult sample_result() {
    GenerationResult r;
    r.text = "Hi there";
    r.finish_reason = "stop";
    r.prompt_tokens = 12;
    r.completion_tokens = 2;
    r.logprobs = {
        {"Hi", -0.1f, {{"Hi", -0.1f}, {"Hello", -2.5f}}},
        {" there", -0.25f, {{" there", -0.25f}, {"!", -3.0f}}},
    };
    return r;
}

std::vector<int> bytes_of(std::string_view s) {
    std::vector<int> out;
    for (char c : s) out.push_back(static_cast<unsigned char>(c));
    return out;
}

TEST(OpenAiFormat, ErrorBody) {
    Json j = Json::parse(error_body(ApiError(400, "n > 1 is not supported; got 2", "n")));
    ASSERT_EQ(j.size(), 1u);
    const Json& e = j.at("error");
    EXPECT_EQ(e.at("message"), "n > 1 is not supported; got 2");
    EXPECT_EQ(e.at("type"), "invalid_request_error");
    EXPECT_EQ(e.at("param"), "n");
    EXPECT_TRUE(e.at("code").is_null());

    Json full =
        Json::parse(error_body(ApiError(400, "too long", "messages", "context_length_exceeded")));
    EXPECT_EQ(full["error"]["code"], "context_length_exceeded");

    Json server = Json::parse(error_body(ApiError(500, "decode failed", "", "", "server_error")));
    EXPECT_TRUE(server["error"]["param"].is_null());
    EXPECT_EQ(server["error"]["type"], "server_error");
}

TEST(OpenAiFormat, ChatCompletion) {
    GenerationResult r = sample_result();
    Json j = Json::parse(chat_completion_body(kChat, r, false));
    expect_head(j, kChat, "chat.completion");
    ASSERT_EQ(j.at("choices").size(), 1u);
    const Json& c = j["choices"][0];
    EXPECT_EQ(c.at("index"), 0);
    EXPECT_EQ(c.at("message").at("role"), "assistant");
    EXPECT_EQ(c.at("message").at("content"), "Hi there");
    EXPECT_TRUE(c.at("logprobs").is_null());
    EXPECT_EQ(c.at("finish_reason"), "stop");
    expect_usage(j.at("usage"), 12, 2);
}

TEST(OpenAiFormat, ChatCompletionLogprobs) {
    Json j = Json::parse(chat_completion_body(kChat, sample_result(), true));
    const Json& content = j["choices"][0].at("logprobs").at("content");
    ASSERT_EQ(content.size(), 2u);
    EXPECT_EQ(content[0].at("token"), "Hi");
    EXPECT_EQ(content[0].at("logprob"), 0.1 * -1);  // written as the shortest "-0.1"
    EXPECT_EQ(content[0].at("bytes").get<std::vector<int>>(), (std::vector<int>{'H', 'i'}));
    const Json& top = content[1].at("top_logprobs");
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[1].at("token"), "!");
    EXPECT_EQ(top[1].at("logprob"), -3.0);
    EXPECT_EQ(top[1].at("bytes").get<std::vector<int>>(), (std::vector<int>{'!'}));
    EXPECT_NE(chat_completion_body(kChat, sample_result(), true).find("\"logprob\":-0.25"),
              std::string::npos);
}

TEST(OpenAiFormat, ChatChunks) {
    Json role = Json::parse(chat_chunk_role(kChat));
    expect_head(role, kChat, "chat.completion.chunk");
    EXPECT_EQ(role["choices"][0].at("delta"), (Json{{"role", "assistant"}, {"content", ""}}));
    EXPECT_TRUE(role["choices"][0].at("finish_reason").is_null());
    EXPECT_FALSE(role.contains("usage"));

    Json delta = Json::parse(chat_chunk_delta(kChat, "Hi"));
    EXPECT_EQ(delta["choices"][0].at("index"), 0);
    EXPECT_EQ(delta["choices"][0].at("delta"), (Json{{"content", "Hi"}}));
    EXPECT_TRUE(delta["choices"][0].at("logprobs").is_null());
    EXPECT_TRUE(delta["choices"][0].at("finish_reason").is_null());

    GenerationResult r = sample_result();
    Json with_lp = Json::parse(chat_chunk_delta(kChat, "Hi there", r.logprobs));
    const Json& content = with_lp["choices"][0]["logprobs"].at("content");
    ASSERT_EQ(content.size(), 2u);
    EXPECT_EQ(content[1].at("token"), " there");

    Json finish = Json::parse(chat_chunk_finish(kChat, "length"));
    EXPECT_TRUE(finish["choices"][0].at("delta").is_object());
    EXPECT_TRUE(finish["choices"][0].at("delta").empty());
    EXPECT_EQ(finish["choices"][0].at("finish_reason"), "length");
}

TEST(OpenAiFormat, UsageChunks) {
    Json chat = Json::parse(usage_chunk(kChat, true, 5, 7));
    expect_head(chat, kChat, "chat.completion.chunk");
    EXPECT_TRUE(chat.at("choices").is_array());
    EXPECT_TRUE(chat.at("choices").empty());
    expect_usage(chat.at("usage"), 5, 7);

    Json text = Json::parse(usage_chunk(kText, false, 1, 0));
    expect_head(text, kText, "text_completion");
    expect_usage(text.at("usage"), 1, 0);
}

TEST(OpenAiFormat, Completion) {
    GenerationResult r = sample_result();
    r.finish_reason = "length";
    Json j = Json::parse(completion_body(kText, r, false));
    expect_head(j, kText, "text_completion");
    const Json& c = j["choices"][0];
    EXPECT_EQ(c.at("text"), "Hi there");
    EXPECT_EQ(c.at("index"), 0);
    EXPECT_TRUE(c.at("logprobs").is_null());
    EXPECT_EQ(c.at("finish_reason"), "length");
    expect_usage(j.at("usage"), 12, 2);

    r.finish_reason.clear();
    EXPECT_TRUE(
        Json::parse(completion_body(kText, r, false))["choices"][0].at("finish_reason").is_null());
}

TEST(OpenAiFormat, CompletionLogprobsAndEcho) {
    GenerationResult r = sample_result();
    r.logprobs[1].top = {{"!", -3.0f}};  // the sampled token is not among the alternatives
    Json j = Json::parse(completion_body(kText, r, true, "Zoë said: "));
    const Json& c = j["choices"][0];
    EXPECT_EQ(c.at("text"), "Zoë said: Hi there");
    const Json& lp = c.at("logprobs");
    EXPECT_EQ(lp.at("tokens"), (Json{"Hi", " there"}));
    EXPECT_EQ(lp.at("token_logprobs"), (Json{-0.1, -0.25}));
    // "Zoë said: " is 10 characters (11 bytes); " there" starts 2 characters later.
    EXPECT_EQ(lp.at("text_offset"), (Json{10, 12}));
    EXPECT_EQ(lp.at("top_logprobs")[0], (Json{{"Hi", -0.1}, {"Hello", -2.5}}));
    EXPECT_EQ(lp.at("top_logprobs")[1],
              (Json{{"!", -3.0}, {" there", -0.25}}));  // sampled token added
}

TEST(OpenAiFormat, CompletionChunk) {
    Json j = Json::parse(completion_chunk(kText, "Hi", ""));
    expect_head(j, kText, "text_completion");
    EXPECT_EQ(j["choices"][0].at("text"), "Hi");
    EXPECT_TRUE(j["choices"][0].at("logprobs").is_null());
    EXPECT_TRUE(j["choices"][0].at("finish_reason").is_null());

    GenerationResult r = sample_result();
    Json lp =
        Json::parse(completion_chunk(kText, " there", "stop", std::span(r.logprobs).subspan(1), 2));
    EXPECT_EQ(lp["choices"][0].at("finish_reason"), "stop");
    EXPECT_EQ(lp["choices"][0]["logprobs"].at("tokens"), (Json{" there"}));
    EXPECT_EQ(lp["choices"][0]["logprobs"].at("text_offset"), (Json{2}));
}

TEST(OpenAiFormat, Utf8Length) {
    EXPECT_EQ(utf8_length(""), 0u);
    EXPECT_EQ(utf8_length("abc"), 3u);
    EXPECT_EQ(utf8_length("Zoë"), 3u);
    EXPECT_EQ(utf8_length("日本"), 2u);
    EXPECT_EQ(utf8_length("\xe6\x97"), 1u);  // a cut character counts where it starts
    EXPECT_EQ(utf8_length("\x97"), 0u);
}

TEST(OpenAiFormat, InvalidUtf8TokenTextNeverThrows) {
    // "日" is E6 97 A5; a byte-level token may end inside it, the next one hold the rest.
    GenerationResult r;
    r.text = "x\xe6\x97";
    r.finish_reason = "stop";
    r.logprobs = {{"x\xe6\x97", -1.0f, {{"\xa5", -2.0f}, {"\xff\xfe", -3.0f}}}};
    std::string body;
    ASSERT_NO_THROW(body = chat_completion_body(kChat, r, true));
    Json j = Json::parse(body);  // valid JSON, so valid UTF-8
    EXPECT_EQ(j["choices"][0]["message"]["content"],
              "x\xEF\xBF\xBD");  // U+FFFD replaces the cut sequence
    const Json& entry = j["choices"][0]["logprobs"]["content"][0];
    EXPECT_EQ(entry.at("bytes").get<std::vector<int>>(), bytes_of("x\xe6\x97"));
    EXPECT_EQ(entry["top_logprobs"][0].at("bytes").get<std::vector<int>>(), bytes_of("\xa5"));
    EXPECT_EQ(entry["top_logprobs"][1].at("bytes").get<std::vector<int>>(), bytes_of("\xff\xfe"));

    ASSERT_NO_THROW(Json::parse(chat_chunk_delta(kChat, "\xc3", r.logprobs)));
    ASSERT_NO_THROW(Json::parse(completion_body(kText, r, true, "\xf0\x9f")));
    ASSERT_NO_THROW(Json::parse(completion_chunk(kText, "\x80", "", r.logprobs)));
    ASSERT_NO_THROW(Json::parse(error_body(ApiError(400, "bad \xff byte", "\xfe"))));
    ASSERT_NO_THROW(Json::parse(models_body("m\xff", 0, "o\xc3")));
}

TEST(OpenAiFormat, NonFiniteLogprobsAreVeryUnlikely) {
    GenerationResult r = sample_result();
    r.logprobs[0].logprob = -std::numeric_limits<float>::infinity();
    r.logprobs[0].top[1].second = std::numeric_limits<float>::quiet_NaN();
    Json chat = Json::parse(chat_completion_body(kChat, r, true));
    EXPECT_EQ(chat["choices"][0]["logprobs"]["content"][0].at("logprob"), -9999.0);
    EXPECT_EQ(chat["choices"][0]["logprobs"]["content"][0]["top_logprobs"][1].at("logprob"),
              -9999.0);
    Json text = Json::parse(completion_body(kText, r, true));
    EXPECT_EQ(text["choices"][0]["logprobs"]["token_logprobs"][0], -9999.0);
}

std::vector<std::vector<float>> sample_embeddings() {
    return {
        {0.1f, -0.5f, 1.0f / 3.0f, 0.0f, -0.0f, 1e-30f, 3.4e38f},
        {std::numeric_limits<float>::denorm_min(), 42.0f},
        {},
    };
}

TEST(OpenAiFormat, EmbeddingsAsFloats) {
    auto values = sample_embeddings();
    std::string body = embeddings_body("e5", values, false, 9);
    Json j = Json::parse(body);
    EXPECT_EQ(j.at("object"), "list");
    EXPECT_EQ(j.at("model"), "e5");
    EXPECT_EQ(j.at("usage"), (Json{{"prompt_tokens", 9}, {"total_tokens", 9}}));
    ASSERT_EQ(j.at("data").size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        const Json& d = j["data"][i];
        EXPECT_EQ(d.at("object"), "embedding");
        EXPECT_EQ(d.at("index"), i);
        ASSERT_EQ(d.at("embedding").size(), values[i].size());
        for (size_t k = 0; k < values[i].size(); ++k) {
            // Shortest round-trip text: read back as float, the very same value.
            EXPECT_EQ(static_cast<float>(d["embedding"][k].get<double>()), values[i][k])
                << i << "," << k;
        }
    }
    EXPECT_NE(body.find("[0.1,-0.5,"), std::string::npos);

    Json nan = Json::parse(embeddings_body("e", {{1.0f, std::nanf("")}}, false, 1));
    EXPECT_TRUE(nan["data"][0]["embedding"][1].is_null());
}

std::vector<uint8_t> decode_base64(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::vector<uint8_t> out;
    uint32_t bits = 0;
    int n = 0;
    for (char c : text) {
        if (c == '=') break;
        int v = value(c);
        EXPECT_GE(v, 0) << "not base64: " << c;
        bits = bits << 6 | static_cast<uint32_t>(v);
        n += 6;
        if (n >= 8) {
            n -= 8;
            out.push_back(static_cast<uint8_t>(bits >> n));
        }
    }
    return out;
}

TEST(OpenAiFormat, EmbeddingsAsBase64RoundTrip) {
    // Sizes 1, 2, 3 floats cover every padding case (4, 8, 12 bytes: 2, 1, 0 '=').
    std::vector<std::vector<float>> values = {{1.0f}, {-2.5f, 0.1f}, {3.0f, 1e-7f, -0.0f}};
    for (const auto& v : sample_embeddings()) values.push_back(v);
    Json j = Json::parse(embeddings_body("e", values, true, 3));
    for (size_t i = 0; i < values.size(); ++i) {
        std::string text = j["data"][i].at("embedding");
        EXPECT_EQ(text.size() % 4, 0u);
        std::vector<uint8_t> bytes = decode_base64(text);
        ASSERT_EQ(bytes.size(), values[i].size() * 4);
        for (size_t k = 0; k < values[i].size(); ++k) {
            uint32_t bits = 0;
            for (int b = 3; b >= 0; --b) {  // little-endian: the last byte is the top one
                bits = bits << 8 | bytes[k * 4 + static_cast<size_t>(b)];
            }
            EXPECT_EQ(bits, std::bit_cast<uint32_t>(values[i][k])) << i << "," << k;
        }
    }
    // 1.0f is 00 00 80 3F little-endian.
    EXPECT_EQ(j["data"][0]["embedding"], "AACAPw==");
}

TEST(OpenAiFormat, Models) {
    Json list = Json::parse(models_body("stories260K", 1700000000, "loom"));
    EXPECT_EQ(list.at("object"), "list");
    ASSERT_EQ(list.at("data").size(), 1u);
    Json one = Json::parse(model_body("stories260K", 1700000000, "loom"));
    EXPECT_EQ(list["data"][0], one);
    EXPECT_EQ(one.at("id"), "stories260K");
    EXPECT_EQ(one.at("object"), "model");
    EXPECT_EQ(one.at("created"), 1700000000);
    EXPECT_EQ(one.at("owned_by"), "loom");
}

}  // namespace
}  // namespace loom::server

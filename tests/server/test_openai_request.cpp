// Tests of the OpenAI request parsers (openai_request.cpp, openai_request_json.cpp):
// every class of refusal with its param and message, valid requests of each kind with
// every field, and unknown fields ignored.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "server/openai_request.h"

namespace loom::server {
namespace {

using namespace std::string_literals;

// The ApiError that parse(body) throws (a failed test if it throws none).
template <typename Parse>
ApiError error_of(Parse parse, std::string_view body) {
    try {
        parse(body);
    } catch (const ApiError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << body;
    return ApiError(0, "");
}

ApiError chat_error(std::string_view body) { return error_of(parse_chat_request, body); }
ApiError completion_error(std::string_view body) {
    return error_of(parse_completion_request, body);
}
ApiError embedding_error(std::string_view body) { return error_of(parse_embedding_request, body); }

// A refusal: status 400, OpenAI's error type, the param, and a message containing `text`.
void expect_refusal(const ApiError& e, std::string_view param, std::string_view text) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_EQ(e.param, param);
    EXPECT_TRUE(e.code.empty());
    EXPECT_NE(std::string_view(e.what()).find(text), std::string_view::npos)
        << "message: " << e.what() << "\nexpected to contain: " << text;
}

// A chat body with one user message and the given extra fields ("" for none).
std::string chat(std::string_view extra) {
    std::string body = R"({"messages":[{"role":"user","content":"hi"}])";
    if (!extra.empty()) body += "," + std::string(extra);
    return body + "}";
}

std::string with_messages(std::string_view messages) {
    return R"({"messages":)" + std::string(messages) + "}";
}

// --- the body -------------------------------------------------------------------

TEST(OpenAiRequest, RefusesEmptyBody) {
    expect_refusal(chat_error(""), "", "request body is empty; expected a JSON object");
    expect_refusal(completion_error(" \r\n "), "", "request body is empty");
}

TEST(OpenAiRequest, RefusesMalformedJsonWithByteOffset) {
    ApiError e = chat_error(R"({"model": x})");
    expect_refusal(e, "", "not valid JSON at byte offset 10");
    expect_refusal(e, "", "invalid literal");
    expect_refusal(chat_error(R"({"messages": [)"), "", "not valid JSON at byte offset 14");
    expect_refusal(chat_error(R"({"a":1} x)"), "", "not valid JSON at byte offset 8");
    expect_refusal(chat_error(R"({"a":1e999})"), "", "number overflow");
}

TEST(OpenAiRequest, RefusesInvalidUtf8) {
    expect_refusal(chat_error("{\"model\":\"a\xff\"}"), "", "not valid UTF-8");
    // A cut sequence is reported where it turns ill-formed: the '"' after the lead byte.
    expect_refusal(chat_error("{\"model\":\"a\xc3\"}"), "", "at byte offset 12");
    expect_refusal(chat_error("{\"model\":\"\xed\xa0\x80\"}"), "",
                   "not valid UTF-8");  // a surrogate
}

TEST(OpenAiRequest, RefusesBodyThatIsNotAnObject) {
    expect_refusal(chat_error("[1]"), "", "request body must be a JSON object; got an array");
    expect_refusal(embedding_error(R"("text")"), "", "got the string \"text\"");
    expect_refusal(completion_error("null"), "", "got null");
}

TEST(OpenAiRequest, RefusesDeepNestingAndHugeObjects) {
    std::string deep = R"({"x":)" + std::string(200, '[') + std::string(200, ']') + "}";
    expect_refusal(chat_error(deep), "", "deeper than 128 levels");
    std::string nested_ok = R"({"x":)" + std::string(100, '[') + std::string(100, ']') + "}";
    expect_refusal(chat_error(nested_ok), "messages", "messages is missing");  // past the parse

    std::string wide = "{";
    for (int i = 0; i < 1025; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    expect_refusal(chat_error(wide + "}"), "", "more than 1024 members");

    // 65 objects of 1024 members: each within bounds, too many in all.
    std::string object = "{";
    for (int i = 0; i < 1024; ++i) object += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    object += "}";
    std::string many = R"({"x":[)";
    for (int i = 0; i < 65; ++i) many += (i ? "," : "") + object;
    expect_refusal(chat_error(many + "]}"), "", "more than 65536 JSON object members in all");

    // Brackets, colons and braces inside strings do not count.
    std::string quoted = R"({"messages":[{"role":"user","content":")" + std::string(300, '[') +
                         std::string(2000, ':') + R"(\"{"}]})";
    EXPECT_NO_THROW(parse_chat_request(quoted));
}

TEST(OpenAiRequest, LongConversationsParse) {
    std::string messages = "[";
    for (int i = 0; i < 5000; ++i) {
        messages += (i ? "," : "") + std::string(R"({"role":"user","content":"turn )") +
                    std::to_string(i) + R"("})";
    }
    ChatRequest r = parse_chat_request(with_messages(messages + "]"));
    ASSERT_EQ(r.messages.size(), 5000u);
    EXPECT_EQ(r.messages[4999]["content"], "turn 4999");
}

// --- messages -------------------------------------------------------------------

TEST(OpenAiRequest, RefusesMissingOrEmptyMessages) {
    expect_refusal(chat_error("{}"), "messages", "messages is missing");
    expect_refusal(chat_error(R"({"messages":null})"), "messages", "messages is missing");
    expect_refusal(chat_error(with_messages(R"("hi")")), "messages",
                   "messages must be an array; got the string");
    expect_refusal(chat_error(with_messages("[]")), "messages", "messages must not be empty");
    expect_refusal(chat_error(with_messages("[1]")), "messages[0]",
                   "messages[0] must be an object; got 1");
}

TEST(OpenAiRequest, RefusesBadRoles) {
    expect_refusal(
        chat_error(with_messages(R"([{"content":"x"}])")), "messages[0].role",
        "messages[0].role is missing; expected one of system, developer, user, assistant, tool");
    expect_refusal(
        chat_error(
            with_messages(R"([{"role":"user","content":"a"},{"role":"bot","content":"b"}])")),
        "messages[1].role",
        "must be one of system, developer, user, assistant, tool; got the string \"bot\"");
    expect_refusal(chat_error(with_messages(R"([{"role":7,"content":"x"}])")), "messages[0].role",
                   "must be a string; got 7");
}

TEST(OpenAiRequest, RefusesBadContent) {
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":5}])")),
                   "messages[0].content",
                   "messages[0].content must be a string or an array of text parts; got 5");
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":{"text":"x"}}])")),
                   "messages[0].content", "got an object");
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":["x"]}])")),
                   "messages[0].content[0]", "must be an object");
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":[{"text":"x"}]}])")),
                   "messages[0].content[0].type", "is missing; expected \"text\"");
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":[{"type":"text"}]}])")),
                   "messages[0].content[0].text", "is missing; expected a string");
    expect_refusal(
        chat_error(with_messages(R"([{"role":"user","content":[{"type":"text","text":3}]}])")),
        "messages[0].content[0].text", "must be a string; got 3");
    expect_refusal(
        chat_error(with_messages(R"([{"role":"user","content":[{"type":"video","text":"x"}]}])")),
        "messages[0].content[0].type", "must be \"text\"; got the string \"video\"");
}

TEST(OpenAiRequest, RefusesImageAndAudioParts) {
    std::string image =
        R"([{"role":"user","content":[{"type":"text","text":"what is this?"},)"
        R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}])";
    expect_refusal(chat_error(with_messages(image)), "messages[0].content[1].type",
                   "content parts of type \"image_url\" are not supported (text only)");
    std::string audio = R"([{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}])";
    expect_refusal(chat_error(with_messages(audio)), "messages[0].content[0].type",
                   "\"input_audio\" are not supported");
}

TEST(OpenAiRequest, NullContentOnlyForAssistantWithToolCalls) {
    expect_refusal(
        chat_error(with_messages(R"([{"role":"user","content":null}])")), "messages[0].content",
        "messages[0].content is missing or null; only an assistant message with tool_calls");
    expect_refusal(chat_error(with_messages(R"([{"role":"user"}])")), "messages[0].content",
                   "is missing or null");
    expect_refusal(chat_error(with_messages(R"([{"role":"assistant","content":null}])")),
                   "messages[0].content", "is missing or null");
    expect_refusal(
        chat_error(with_messages(R"([{"role":"assistant","content":null,"tool_calls":[]}])")),
        "messages[0].content", "is missing or null");

    ChatRequest r = parse_chat_request(with_messages(
        R"([{"role":"user","content":"weather?"},)"
        R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
        R"("function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
        R"({"role":"tool","tool_call_id":"c1","content":"18C"}])"));
    ASSERT_EQ(r.messages.size(), 3u);
    EXPECT_EQ(r.messages[1]["content"], "");
    EXPECT_EQ(r.messages[1]["tool_calls"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(r.messages[2]["tool_call_id"], "c1");
}

TEST(OpenAiRequest, RefusesMalformedToolCallsAndNames) {
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":"x","tool_calls":[]}])")),
                   "messages[0].tool_calls",
                   "only allowed on assistant messages; this one is user");
    expect_refusal(chat_error(with_messages(R"([{"role":"assistant","tool_calls":{}}])")),
                   "messages[0].tool_calls", "must be an array; got an object");
    expect_refusal(chat_error(with_messages(R"([{"role":"assistant","tool_calls":[{"id":"c"}]}])")),
                   "messages[0].tool_calls[0].function", "is missing; expected an object");
    expect_refusal(
        chat_error(with_messages(R"([{"role":"assistant","tool_calls":[{"function":{}}]}])")),
        "messages[0].tool_calls[0].function.name", "is missing; expected a string");
    expect_refusal(
        chat_error(with_messages(
            R"([{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{}}}]}])")),
        "messages[0].tool_calls[0].function.arguments", "must be a string; got an object");
    expect_refusal(chat_error(with_messages(R"([{"role":"user","content":"x","name":1}])")),
                   "messages[0].name", "must be a string; got 1");
    expect_refusal(
        chat_error(with_messages(R"([{"role":"tool","content":"x","tool_call_id":false}])")),
        "messages[0].tool_call_id", "must be a string; got false");
}

TEST(OpenAiRequest, NormalizesMessages) {
    ChatRequest r = parse_chat_request(with_messages(
        R"([{"content":"Be brief.","role":"system","name":"policy"},)"
        R"({"role":"developer","content":[]},)"
        R"({"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}],"x":null},)"
        R"({"role":"assistant","content":"ok","reasoning_content":"thought","refusal":null,"tool_calls":null}])"));
    ASSERT_TRUE(r.messages.is_array());
    ASSERT_EQ(r.messages.size(), 4u);
    // role first, content second, then the other non-null fields in their order.
    EXPECT_EQ(r.messages[0].dump(), R"({"role":"system","content":"Be brief.","name":"policy"})");
    EXPECT_EQ(r.messages[1].dump(), R"({"role":"developer","content":""})");
    EXPECT_EQ(r.messages[2].dump(), R"({"role":"user","content":"one\ntwo"})");
    EXPECT_EQ(r.messages[3].dump(),
              R"({"role":"assistant","content":"ok","reasoning_content":"thought"})");
}

// --- sampling fields ------------------------------------------------------------

TEST(OpenAiRequest, RefusesWrongTypes) {
    expect_refusal(chat_error(chat(R"("temperature":"hot")")), "temperature",
                   "temperature must be a number between 0 and 2; got the string \"hot\"");
    expect_refusal(chat_error(chat(R"("temperature":true)")), "temperature", "got true");
    expect_refusal(chat_error(chat(R"("stream":"yes")")), "stream", "stream must be a boolean");
    expect_refusal(chat_error(chat(R"("model":5)")), "model", "model must be a string; got 5");
    expect_refusal(chat_error(chat(R"("stream_options":true)")), "stream_options",
                   "must be an object");
    expect_refusal(chat_error(chat(R"("stream":true,"stream_options":{"include_usage":1})")),
                   "stream_options.include_usage", "must be a boolean; got 1");
    expect_refusal(chat_error(chat(R"("logprobs":1)")), "logprobs", "logprobs must be a boolean");
    expect_refusal(chat_error(chat(R"("max_tokens":1.5)")), "max_tokens",
                   "must be an integer between 1 and 4294967295; got 1.5");
    expect_refusal(chat_error(chat(R"("seed":"1")")), "seed", "seed must be an integer");
}

TEST(OpenAiRequest, RefusesOutOfRangeValues) {
    struct Case {
        const char* field;
        const char* param;
        const char* message;
    };
    const Case cases[] = {
        {R"("temperature":2.5)", "temperature", "temperature must be between 0 and 2; got 2.5"},
        {R"("temperature":-0.1)", "temperature", "got -0.1"},
        {R"("top_p":1.5)", "top_p", "top_p must be between 0 and 1; got 1.5"},
        {R"("min_p":-1)", "min_p", "min_p must be between 0 and 1; got -1"},
        {R"("presence_penalty":3)", "presence_penalty",
         "presence_penalty must be between -2 and 2; got 3"},
        {R"("frequency_penalty":-2.5)", "frequency_penalty", "between -2 and 2; got -2.5"},
        {R"("repeat_penalty":0)", "repeat_penalty", "repeat_penalty must be a number > 0; got 0"},
        {R"("repeat_penalty":1e300)", "repeat_penalty", "must be a number > 0"},
        {R"("top_k":-1)", "top_k", "top_k must be an integer between 0 and 2147483647; got -1"},
        {R"("logprobs":true,"top_logprobs":21)", "top_logprobs",
         "top_logprobs must be an integer between 0 and 20"},
        {R"("top_logprobs":2)", "top_logprobs", "top_logprobs needs logprobs set to true"},
        {R"("max_tokens":0)", "max_tokens",
         "max_tokens must be an integer between 1 and 4294967295; got 0"},
        {R"("max_completion_tokens":-5)", "max_completion_tokens",
         "must be an integer between 1 and 4294967295; got -5"},
        {R"("max_tokens":4294967296)", "max_tokens", "between 1 and 4294967295"},
        {R"("seed":18446744073709551615)", "seed", "seed must be an integer between"},
        {R"("n":2)", "n", "n > 1 is not supported; got 2"},
        {R"("n":0)", "n", "n must be an integer >= 1; got 0"},
        {R"("stop":["a","b","c","d","e"])", "stop", "stop must have at most 4 entries; got 5"},
        {R"("stop":5)", "stop", "stop must be a string or an array of up to 4 strings; got 5"},
        {R"("stop":["a",1])", "stop[1]", "stop[1] must be a string; got 1"},
        {R"("logit_bias":[])", "logit_bias", "logit_bias must be an object; got an array"},
        {R"("logit_bias":{"abc":1})", "logit_bias", "logit_bias keys must be token ids"},
        {R"("logit_bias":{"-1":1})", "logit_bias", "got the string \"-1\""},
        {R"("logit_bias":{"12a":1})", "logit_bias", "logit_bias keys must be token ids"},
        {R"("logit_bias":{"99999999999":1})", "logit_bias", "logit_bias keys must be token ids"},
        {R"("logit_bias":{"":1})", "logit_bias", "got an empty string"},
        {R"("logit_bias":{"50256":101})", "logit_bias.50256",
         "logit_bias.50256 must be between -100 and 100; got 101"},
        {R"("logit_bias":{"50256":"x"})", "logit_bias.50256", "must be a number"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.field);
        expect_refusal(chat_error(chat(c.field)), c.param, c.message);
    }
}

TEST(OpenAiRequest, ParsesStructuredOutputFields) {
    const char* tools =
        R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},)"
        R"({"type":"function","function":{"name":"g","description":"G"}}])";
    ChatRequest r = parse_chat_request(chat(std::string(tools) + R"(,"tool_choice":"required","parallel_tool_calls":false)"));
    ASSERT_EQ(r.structured.tools.size(), 2u);
    EXPECT_EQ(r.structured.tools[0]["function"]["name"], "f");
    EXPECT_EQ(r.structured.tools[0]["function"]["description"], "");  // templates read it
    EXPECT_EQ(r.structured.tools[1]["function"]["parameters"], nlohmann::ordered_json::object());
    EXPECT_EQ(r.structured.tool_choice.mode, ToolChoice::Mode::Required);
    EXPECT_FALSE(r.structured.parallel_tool_calls);
    r = parse_chat_request(chat(std::string(tools) + R"(,"tool_choice":{"type":"function","function":{"name":"g"}})"));
    EXPECT_EQ(r.structured.tool_choice.mode, ToolChoice::Mode::Named);
    EXPECT_EQ(r.structured.tool_choice.name, "g");
    r = parse_chat_request(chat(R"("response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":{"type":"object"}}})"));
    EXPECT_EQ(r.structured.response_format.kind, ResponseFormat::Kind::JsonSchema);
    EXPECT_TRUE(r.structured.response_format.strict);
    EXPECT_EQ(r.structured.response_format.schema, nlohmann::ordered_json::parse(R"({"type":"object"})"));
    EXPECT_EQ(parse_chat_request(chat(R"("response_format":{"type":"json_object"})")).structured.response_format.kind,
              ResponseFormat::Kind::JsonObject);
    EXPECT_EQ(parse_completion_request(R"({"prompt":"x","response_format":{"type":"json_object"}})").response_format.kind,
              ResponseFormat::Kind::JsonObject);
    // What asks for nothing is accepted.
    EXPECT_NO_THROW(parse_chat_request(chat(
        R"("tools":[],"tool_choice":"none","functions":null,"function_call":"none","response_format":{"type":"text"})")));
}

TEST(OpenAiRequest, RefusesMalformedStructuredOutputFields) {
    const std::string tool_f = R"("tools":[{"type":"function","function":{"name":"f"}}])";
    expect_refusal(chat_error(chat(R"("tools":{"type":"function"})")), "tools", "must be an array");
    expect_refusal(chat_error(chat(R"("tools":[{"type":"retrieval","function":{"name":"f"}}])")), "tools[0].type",
                   "must be \"function\"");
    expect_refusal(chat_error(chat(R"("tools":[{"type":"function","function":{"name":"a b"}}])")),
                   "tools[0].function.name", "must be 1 to 64");
    expect_refusal(chat_error(chat(R"("tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}])")),
                   "tools[1].function.name", "two tools are named");
    expect_refusal(chat_error(chat(R"("tools":[{"type":"function","function":{"name":"f","parameters":[]}}])")),
                   "tools[0].function.parameters", "must be an object");
    expect_refusal(chat_error(chat(tool_f + R"(,"tool_choice":"sometimes")")), "tool_choice", "must be");
    expect_refusal(chat_error(chat(tool_f + R"(,"tool_choice":{"type":"function","function":{"name":"g"}})")),
                   "tool_choice.function.name", "not among the tools");
    expect_refusal(chat_error(chat(R"("tool_choice":"required")")), "tool_choice", "needs tools");
    expect_refusal(chat_error(chat(R"("functions":[{"name":"f"}])")), "functions", "send the same definitions as tools");
    expect_refusal(chat_error(chat(R"("function_call":"auto")")), "function_call", "use tool_choice");
    expect_refusal(chat_error(chat(R"("response_format":{"type":"json_schema","json_schema":{"name":"x"}})")),
                   "response_format.json_schema.schema", "is missing");
    expect_refusal(chat_error(chat(R"("response_format":{"type":"yaml"})")), "response_format.type", "must be");
    expect_refusal(chat_error(chat(R"("response_format":"json")")), "response_format", "must be an object");
    expect_refusal(chat_error(chat(R"("response_format":{})")), "response_format.type", "is missing");
    expect_refusal(chat_error(chat(tool_f + R"(,"response_format":{"type":"json_object"})")), "response_format",
                   "cannot be combined with tools");
    expect_refusal(completion_error(R"({"prompt":"x","tools":[{"type":"function","function":{"name":"f"}}]})"),
                   "tools", "for /v1/chat/completions");
}

TEST(OpenAiRequest, ParsesChatWithEveryField) {
    ChatRequest r = parse_chat_request(R"({
        "model": "stories260K",
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
        "presence_penalty": 0.5, "frequency_penalty": -0.5, "repeat_penalty": 1.1,
        "seed": 42, "max_tokens": 100, "max_completion_tokens": 64,
        "stop": ["\n\n", "", "END"], "logit_bias": {"50256": -100, "7": 2.5},
        "logprobs": true, "top_logprobs": 3, "n": 1,
        "stream": true, "stream_options": {"include_usage": true},
        "user": "u-1", "metadata": {"k": "v"}, "store": false, "parallel_tool_calls": true,
        "some_future_field": [1, {"x": null}]
    })");
    EXPECT_EQ(r.model, "stories260K");
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[1]["content"], "u");
    const SamplingRequest& s = r.sampling;
    EXPECT_FLOAT_EQ(s.temperature.value(), 0.7f);
    EXPECT_FLOAT_EQ(s.top_p.value(), 0.9f);
    EXPECT_EQ(s.top_k.value(), 40);
    EXPECT_FLOAT_EQ(s.min_p.value(), 0.05f);
    EXPECT_FLOAT_EQ(s.presence_penalty.value(), 0.5f);
    EXPECT_FLOAT_EQ(s.frequency_penalty.value(), -0.5f);
    EXPECT_FLOAT_EQ(s.repeat_penalty.value(), 1.1f);
    EXPECT_EQ(s.seed.value(), 42u);
    EXPECT_EQ(s.max_tokens.value(), 64u);                          // max_completion_tokens wins
    EXPECT_EQ(s.stop, (std::vector<std::string>{"\n\n", "END"}));  // empty stop strings dropped
    ASSERT_EQ(s.logit_bias.size(), 2u);
    EXPECT_EQ(s.logit_bias[0], (std::pair<int32_t, float>{50256, -100.0f}));
    EXPECT_EQ(s.logit_bias[1], (std::pair<int32_t, float>{7, 2.5f}));
    EXPECT_TRUE(s.logprobs);
    EXPECT_EQ(s.top_logprobs, 3u);
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.include_usage);
}

TEST(OpenAiRequest, DefaultsAndNullsAreAbsent) {
    ChatRequest r = parse_chat_request(chat(
        R"("temperature":null,"stop":null,"seed":null,"max_tokens":null,"logprobs":null,"n":null,"model":null)"));
    EXPECT_TRUE(r.model.empty());
    const SamplingRequest& s = r.sampling;
    EXPECT_FALSE(s.temperature || s.top_p || s.top_k || s.min_p || s.presence_penalty ||
                 s.frequency_penalty || s.repeat_penalty || s.seed || s.max_tokens);
    EXPECT_TRUE(s.stop.empty());
    EXPECT_TRUE(s.logit_bias.empty());
    EXPECT_FALSE(s.logprobs);
    EXPECT_EQ(s.top_logprobs, 0u);
    EXPECT_FALSE(r.stream);
    EXPECT_FALSE(r.include_usage);
}

TEST(OpenAiRequest, SmallFieldForms) {
    ChatRequest r =
        parse_chat_request(chat(R"("stop":"###","max_tokens":1e3,"seed":-1,"temperature":0)"));
    EXPECT_EQ(r.sampling.stop, (std::vector<std::string>{"###"}));
    EXPECT_EQ(r.sampling.max_tokens.value(), 1000u);
    EXPECT_EQ(r.sampling.seed.value(), UINT64_MAX);  // a negative seed keeps its bit pattern
    EXPECT_EQ(r.sampling.temperature.value(), 0.0f);
    // include_usage only counts when streaming.
    EXPECT_FALSE(
        parse_chat_request(chat(R"("stream_options":{"include_usage":true})")).include_usage);
    EXPECT_EQ(parse_chat_request(chat(R"("max_tokens":9)")).sampling.max_tokens.value(), 9u);
}

// --- completions ----------------------------------------------------------------

TEST(OpenAiRequest, ParsesCompletionPromptForms) {
    CompletionRequest text = parse_completion_request(R"({"prompt":"Once upon"})");
    EXPECT_EQ(text.prompt_text, "Once upon");
    EXPECT_FALSE(text.prompt_is_tokens);

    CompletionRequest one = parse_completion_request(R"({"prompt":["Once"]})");
    EXPECT_EQ(one.prompt_text, "Once");
    EXPECT_FALSE(one.prompt_is_tokens);

    CompletionRequest empty = parse_completion_request(R"({"prompt":""})");
    EXPECT_EQ(empty.prompt_text, "");

    CompletionRequest ids = parse_completion_request(R"({"prompt":[1, 15043, 2147483647]})");
    EXPECT_TRUE(ids.prompt_is_tokens);
    EXPECT_EQ(ids.prompt_tokens, (std::vector<int32_t>{1, 15043, 2147483647}));
    EXPECT_TRUE(ids.prompt_text.empty());

    CompletionRequest nested = parse_completion_request(R"({"prompt":[[5, 6]]})");
    EXPECT_TRUE(nested.prompt_is_tokens);
    EXPECT_EQ(nested.prompt_tokens, (std::vector<int32_t>{5, 6}));
}

TEST(OpenAiRequest, RefusesBadCompletionPrompts) {
    expect_refusal(completion_error("{}"), "prompt", "prompt is missing");
    expect_refusal(completion_error(R"({"prompt":7})"), "prompt",
                   "must be a string or an array of token ids; got 7");
    expect_refusal(completion_error(R"({"prompt":[]})"), "prompt", "prompt must not be empty");
    expect_refusal(completion_error(R"({"prompt":[[]]})"), "prompt[0]",
                   "prompt[0] must not be empty");
    expect_refusal(completion_error(R"({"prompt":["a","b"]})"), "prompt",
                   "batched prompts are not supported; got 2 prompts");
    expect_refusal(completion_error(R"({"prompt":[[1],[2],[3]]})"), "prompt",
                   "batched prompts are not supported");
    expect_refusal(completion_error(R"({"prompt":[1,-2]})"), "prompt[1]",
                   "prompt[1] must be an integer between 0 and");
    expect_refusal(completion_error(R"({"prompt":[1,"a"]})"), "prompt[1]",
                   "must be a token id (an integer >= 0)");
    expect_refusal(completion_error(R"({"prompt":[1.5]})"), "prompt[0]", "got 1.5");
    expect_refusal(completion_error(R"({"prompt":[2147483648]})"), "prompt[0]",
                   "between 0 and 2147483647");
    expect_refusal(completion_error(R"({"prompt":[[1,null]]})"), "prompt[0][1]", "got null");
    expect_refusal(completion_error(R"({"prompt":[{}]})"), "prompt[0]", "got an object");
}

TEST(OpenAiRequest, ParsesCompletionWithEveryField) {
    CompletionRequest r = parse_completion_request(R"({
        "model": "m", "prompt": "Hello", "max_tokens": 16, "temperature": 1.5, "top_p": 0.5,
        "stop": "\n", "logprobs": 3, "echo": true, "n": 1, "best_of": 1, "suffix": "",
        "stream": true, "stream_options": {"include_usage": true}, "seed": 7,
        "logit_bias": {"1": 1}, "presence_penalty": 0.1, "frequency_penalty": 0.2, "ignored": {}
    })");
    EXPECT_EQ(r.model, "m");
    EXPECT_EQ(r.prompt_text, "Hello");
    EXPECT_EQ(r.sampling.max_tokens.value(), 16u);
    EXPECT_FLOAT_EQ(r.sampling.temperature.value(), 1.5f);
    EXPECT_EQ(r.sampling.stop, (std::vector<std::string>{"\n"}));
    EXPECT_TRUE(r.sampling.logprobs);
    EXPECT_EQ(r.sampling.top_logprobs, 3u);
    EXPECT_TRUE(r.echo);
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.include_usage);
    EXPECT_EQ(r.sampling.seed.value(), 7u);

    CompletionRequest zero = parse_completion_request(R"({"prompt":"x","logprobs":0})");
    EXPECT_TRUE(zero.sampling.logprobs);  // the sampled token's logprob, no alternatives
    EXPECT_EQ(zero.sampling.top_logprobs, 0u);
    EXPECT_FALSE(parse_completion_request(R"({"prompt":"x","logprobs":null})").sampling.logprobs);
}

TEST(OpenAiRequest, RefusesBadCompletionFields) {
    expect_refusal(completion_error(R"({"prompt":"x","logprobs":6})"), "logprobs",
                   "logprobs must be an integer between 0 and 5; got 6");
    expect_refusal(completion_error(R"({"prompt":"x","logprobs":true})"), "logprobs",
                   "logprobs must be an integer between 0 and 5 on /v1/completions");
    expect_refusal(completion_error(R"({"prompt":"x","n":3})"), "n", "n > 1 is not supported");
    expect_refusal(completion_error(R"({"prompt":"x","best_of":2})"), "best_of",
                   "best_of > 1 is not supported");
    expect_refusal(completion_error(R"({"prompt":"x","suffix":"end"})"), "suffix",
                   "suffix is not supported");
    expect_refusal(completion_error(R"({"prompt":"x","echo":"yes"})"), "echo",
                   "echo must be a boolean");
    expect_refusal(completion_error(R"({"prompt":"x","max_tokens":0})"), "max_tokens",
                   "must be an integer between 1 and");
}

// --- embeddings -----------------------------------------------------------------

TEST(OpenAiRequest, ParsesEmbeddingInputForms) {
    EmbeddingRequest one = parse_embedding_request(R"({"input":"hello","model":"e"})");
    EXPECT_EQ(one.model, "e");
    ASSERT_EQ(one.inputs.size(), 1u);
    EXPECT_EQ(one.inputs[0].text, "hello");
    EXPECT_FALSE(one.inputs[0].is_tokens);
    EXPECT_FALSE(one.base64);

    EmbeddingRequest texts =
        parse_embedding_request(R"({"input":["a","b"],"encoding_format":"base64"})");
    ASSERT_EQ(texts.inputs.size(), 2u);
    EXPECT_EQ(texts.inputs[1].text, "b");
    EXPECT_TRUE(texts.base64);

    EmbeddingRequest ids =
        parse_embedding_request(R"({"input":[3,4,5],"encoding_format":"float"})");
    ASSERT_EQ(ids.inputs.size(), 1u);
    EXPECT_TRUE(ids.inputs[0].is_tokens);
    EXPECT_EQ(ids.inputs[0].tokens, (std::vector<int32_t>{3, 4, 5}));
    EXPECT_FALSE(ids.base64);

    EmbeddingRequest nested =
        parse_embedding_request(R"({"input":[[1],[2,3]],"dimensions":null,"user":"x"})");
    ASSERT_EQ(nested.inputs.size(), 2u);
    EXPECT_EQ(nested.inputs[1].tokens, (std::vector<int32_t>{2, 3}));

    EmbeddingRequest mixed = parse_embedding_request(R"({"input":["a",[7]]})");
    ASSERT_EQ(mixed.inputs.size(), 2u);
    EXPECT_TRUE(mixed.inputs[1].is_tokens);

    std::string many = R"({"input":[)";
    for (int i = 0; i < 2048; ++i) many += i ? ",\"x\"" : "\"x\"";
    EXPECT_EQ(parse_embedding_request(many + "]}").inputs.size(), 2048u);
}

TEST(OpenAiRequest, RefusesBadEmbeddingRequests) {
    expect_refusal(embedding_error("{}"), "input", "input is missing");
    expect_refusal(embedding_error(R"({"input":""})"), "input", "input must not be empty");
    expect_refusal(embedding_error(R"({"input":[]})"), "input", "input must not be empty");
    expect_refusal(embedding_error(R"({"input":["a",""]})"), "input[1]",
                   "input[1] must not be empty");
    expect_refusal(embedding_error(R"({"input":[[1],[]]})"), "input[1]",
                   "input[1] must not be empty");
    expect_refusal(embedding_error(R"({"input":5})"), "input", "got 5");
    expect_refusal(embedding_error(R"({"input":["a",5]})"), "input[1]",
                   "must be a string or an array of token ids");
    expect_refusal(embedding_error(R"({"input":[1,"a"]})"), "input[1]", "must be a token id");
    expect_refusal(embedding_error(R"({"input":[[1,-1]]})"), "input[0][1]", "got -1");
    std::string many = R"({"input":[)";
    for (int i = 0; i < 2049; ++i) many += i ? ",\"x\"" : "\"x\"";
    expect_refusal(embedding_error(many + "]}"), "input",
                   "input must have at most 2048 entries; got 2049");
    expect_refusal(embedding_error(R"({"input":"a","encoding_format":"hex"})"), "encoding_format",
                   "encoding_format must be \"float\" or \"base64\"; got the string \"hex\"");
    expect_refusal(embedding_error(R"({"input":"a","encoding_format":1})"), "encoding_format",
                   "must be a string");
    expect_refusal(embedding_error(R"({"input":"a","dimensions":256})"), "dimensions",
                   "dimensions is not supported");
    expect_refusal(embedding_error(R"({"input":"a","model":[]})"), "model",
                   "model must be a string");
}

TEST(OpenAiRequest, LongStringsAreCutInMessages) {
    std::string role(100, 'r');
    ApiError e = chat_error(with_messages(R"([{"role":")" + role + R"(","content":"x"}])"));
    expect_refusal(e, "messages[0].role", "… (100 bytes)");
    EXPECT_LT(std::string_view(e.what()).size(), 200u);
}

}  // namespace
}  // namespace loom::server

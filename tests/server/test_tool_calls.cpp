// Tool calls per template family: the family each real template is detected as; the
// calls a template renders for an assistant turn are parsed back exactly and are
// sentences of the family's grammar; grammars reject malformed calls; the Generic
// family's history and tool description.
#include "server/tool_calls.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "jinja/template.h"
#include "model/model.h"
#include "runtime/grammar.h"
#include "runtime/grammar_matcher.h"
#include "runtime/token_trie.h"
#include "server/json_value.h"
#include "test_util.h"

namespace loom::server {
namespace {

using Json = nlohmann::ordered_json;

std::string read_template(const std::string& name) {
    std::ifstream in(test::fixture("chat-templates/" + name), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const Json kTools = Json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                  "required": ["city", "unit"]}}},
  {"type": "function", "function": {"name": "add", "description": "Sum of two integers", "parameters": {"type": "object",
   "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}
])");

std::vector<ToolSpec> specs() {
    std::vector<ToolSpec> out;
    for (const Json& t : kTools) out.push_back({t["function"]["name"], t["function"]["parameters"]});
    return out;
}

// The conversation whose last assistant turn calls both tools, rendered by the template.
std::string render_calls(const std::string& source) {
    Json messages = Json::parse(R"([
      {"role": "user", "content": "Weather in Paris, and 2+3?"},
      {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"c\"}"}},
        {"id": "call00002", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3}"}}]}
    ])");
    messages = prepare_tool_messages(detect_tool_family(source), messages, &kTools);
    jinja::Dict context;
    context.set("messages", json_to_value(messages));
    context.set("tools", json_to_value(kTools));
    context.set("add_generation_prompt", jinja::Value(false));
    context.set("bos_token", jinja::Value(std::string("<s>")));
    context.set("eos_token", jinja::Value(std::string("</s>")));
    return jinja::Template::parse(source).render(context);
}

struct Case {
    const char* file;
    ToolFamily family;
    const char* begin;  // where the rendered assistant calls start
    const char* end;    // text after them (the template's turn end), or "" for the rest
};

const Case kCases[] = {
    {"Qwen-Qwen2.5-7B-Instruct.jinja", ToolFamily::Hermes, "<tool_call>", "<|im_end|>"},
    {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolFamily::Hermes, "<tool_call>", "<|im_end|>"},
    {"Mistral-Small-3.2-24B-Instruct-2506.jinja", ToolFamily::Mistral, "[TOOL_CALLS]", "</s>"},
    {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", ToolFamily::DeepSeek, "<｜tool▁calls▁begin｜>",
     "<｜end▁of▁sentence｜>"},
};

TEST(ToolCalls, DetectsTheFamilyOfRealTemplates) {
    for (const Case& c : kCases) EXPECT_EQ(detect_tool_family(read_template(c.file)), c.family) << c.file;
    EXPECT_EQ(detect_tool_family(read_template("meta-llama-Llama-3.2-3B-Instruct.jinja")), ToolFamily::Llama3);
    EXPECT_EQ(detect_tool_family(read_template("google-gemma-2-2b-it.jinja")), ToolFamily::Generic);
}

// What a template renders as the assistant's calls parses back to the same calls, and
// the family's grammar (on the stories260K vocabulary) accepts that exact text.
TEST(ToolCalls, RenderedCallsParseBackAndFitTheGrammar) {
    auto model = model::Model::load(test::fixture("stories260K.gguf"));
    auto trie = runtime::TokenTrie::from_tokenizer(model->tokenizer());
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.file);
        const std::string rendered = render_calls(read_template(c.file));
        // The calls follow the user's turn (a tool description before it may show the syntax too).
        const size_t b = rendered.find(c.begin, rendered.find("Weather in Paris, and 2+3?"));
        ASSERT_NE(b, std::string::npos) << rendered;
        size_t e = rendered.find(c.end, b);
        if (e == std::string::npos) e = rendered.size();
        const std::string calls = rendered.substr(b, e - b);
        ParsedOutput out = parse_tool_calls(c.family, calls);
        ASSERT_EQ(out.calls.size(), 2u) << calls;
        EXPECT_EQ(out.calls[0].name, "get_weather");
        EXPECT_EQ(Json::parse(out.calls[0].arguments), Json::parse(R"({"city": "Paris", "unit": "c"})"));
        EXPECT_EQ(out.calls[1].name, "add");
        EXPECT_EQ(Json::parse(out.calls[1].arguments), Json::parse(R"({"a": 2, "b": 3})"));
        EXPECT_EQ(out.content, "");

        auto grammar = runtime::Grammar::parse(tool_call_grammar(c.family, specs(), true, false));
        runtime::GrammarMatcher m(grammar, trie);
        // Templates may end the calls with a newline the grammar does not need.
        std::string body = calls;
        while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
        EXPECT_NO_THROW(m.accept_bytes(body)) << body;
        EXPECT_TRUE(m.can_end()) << body;
        // One call only, without parallel calls: the second call is refused.
        runtime::GrammarMatcher single(runtime::Grammar::parse(tool_call_grammar(c.family, specs(), false, false)),
                                       trie);
        EXPECT_FALSE(single.accepts_bytes(body)) << body;
    }
}

TEST(ToolCalls, GrammarsRefuseWrongNamesAndArguments) {
    auto model = model::Model::load(test::fixture("stories260K.gguf"));
    auto trie = runtime::TokenTrie::from_tokenizer(model->tokenizer());
    auto g = runtime::Grammar::parse(tool_call_grammar(ToolFamily::Hermes, specs(), false, false));
    runtime::GrammarMatcher m(g, trie);
    EXPECT_TRUE(m.accepts_bytes("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>"));
    EXPECT_FALSE(m.accepts_bytes("<tool_call>\n{\"name\": \"sub\""));
    EXPECT_FALSE(m.accepts_bytes("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": \"x\""));
    EXPECT_FALSE(m.accepts_bytes("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P\", \"unit\": \"k\""));
    EXPECT_FALSE(m.accepts_bytes("Sure! <tool_call>"));

    auto llama = runtime::Grammar::parse(tool_call_grammar(ToolFamily::Llama3, specs(), true, false));
    runtime::GrammarMatcher lm(llama, trie);
    EXPECT_TRUE(lm.accepts_bytes("{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}"));
    auto v3 = runtime::Grammar::parse(tool_call_grammar(ToolFamily::MistralV3, specs(), true, false));
    runtime::GrammarMatcher vm(v3, trie);
    EXPECT_TRUE(vm.accepts_bytes("[TOOL_CALLS][{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}]"));

    // Generic: calls or, with allow_text, a response.
    auto generic = runtime::Grammar::parse(tool_call_grammar(ToolFamily::Generic, specs(), true, true));
    runtime::GrammarMatcher gm(generic, trie);
    EXPECT_TRUE(gm.accepts_bytes("{\"response\": \"It is sunny.\"}"));
    EXPECT_TRUE(gm.accepts_bytes("{\"tool_calls\": [{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}]}"));
    auto forced = runtime::Grammar::parse(tool_call_grammar(ToolFamily::Generic, specs(), true, false));
    runtime::GrammarMatcher fm(forced, trie);
    EXPECT_FALSE(fm.accepts_bytes("{\"response\""));
}

TEST(ToolCalls, ParsersKeepTextAndIgnoreBrokenCalls) {
    ParsedOutput h = parse_tool_calls(ToolFamily::Hermes,
                                      "Let me check.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1}}\n</tool_call>\n<tool_call>\n{\"na");
    ASSERT_EQ(h.calls.size(), 1u);
    EXPECT_EQ(h.content, "Let me check.");  // the cut-off second call is dropped
    ParsedOutput broken = parse_tool_calls(ToolFamily::Hermes, "<tool_call>\n{not json}\n</tool_call>");
    EXPECT_TRUE(broken.calls.empty());
    EXPECT_EQ(broken.content, "<tool_call>\n{not json}\n</tool_call>");
    ParsedOutput llama = parse_tool_calls(ToolFamily::Llama3, "<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 1}}");
    ASSERT_EQ(llama.calls.size(), 1u);
    EXPECT_EQ(llama.calls[0].arguments, "{\"a\":1}");
    EXPECT_TRUE(parse_tool_calls(ToolFamily::Llama3, "The answer is {x}.").calls.empty());
    ParsedOutput generic = parse_tool_calls(ToolFamily::Generic, "{\"response\": \"Hello\"}");
    EXPECT_TRUE(generic.calls.empty());
    EXPECT_EQ(generic.content, "Hello");
    ParsedOutput v3 = parse_tool_calls(ToolFamily::MistralV3, "[TOOL_CALLS][{\"name\": \"add\", \"arguments\": {\"a\": 1}}]");
    ASSERT_EQ(v3.calls.size(), 1u);
    EXPECT_EQ(v3.calls[0].name, "add");
}

TEST(ToolCalls, GenericHistoryBecomesPlainTurns) {
    Json messages = Json::parse(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "2+3?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "5"}
    ])");
    Json out = prepare_tool_messages(ToolFamily::Generic, messages, &kTools);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_NE(out[0]["content"].get<std::string>().find("get_weather"), std::string::npos);
    EXPECT_EQ(out[0]["content"].get<std::string>().rfind("Be brief.", 0), 0u);
    EXPECT_EQ(Json::parse(out[2]["content"].get<std::string>()),
              Json::parse(R"({"tool_calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}]})"));
    EXPECT_FALSE(out[2].contains("tool_calls"));
    EXPECT_EQ(out[3]["role"], "user");
    EXPECT_EQ(out[3]["content"], "Result of c1: 5");
    // Other families keep the turns and get arguments as objects.
    Json hermes = prepare_tool_messages(ToolFamily::Hermes, messages, &kTools);
    EXPECT_TRUE(hermes[2]["tool_calls"][0]["function"]["arguments"].is_object());
    EXPECT_EQ(hermes[3]["role"], "tool");
}

}  // namespace
}  // namespace loom::server

// Tool calling for the chat API: each chat-template family's tool-call syntax, the
// grammar that constrains generation to well-formed calls of the request's tools (their
// "parameters" JSON schemas included), and the parser that turns the model's output back
// into OpenAI tool_calls.
//
//   ToolFamily family = detect_tool_family(template_source);
//   std::string gbnf = tool_call_grammar(family, tools, parallel, /*allow_text=*/false);
//   ... generate under the grammar (or lazily from tool_call_trigger(family)) ...
//   ParsedOutput out = parse_tool_calls(family, text);
//
// Families and their syntax (what the templates in ../shared/fixtures/chat-templates
// render for assistant tool calls, and the models are trained to write):
//   Hermes    <tool_call>\n{"name": N, "arguments": {…}}\n</tool_call>   (Qwen 2.5/3, Hermes)
//   Llama3    {"name": N, "parameters": {…}}                            (Llama 3.1–3.3)
//   Mistral   [TOOL_CALLS]N[CALL_ID]id[ARGS]{…}, [CALL_ID]id optional     (Mistral Small 3.2, Devstral)
//   MistralV3 [TOOL_CALLS][{"name": N, "arguments": {…}}, …]            (Mistral 7B v0.3, Nemo)
//   DeepSeek  <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>N\n```json\n{…}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>
//   Generic   the whole reply is JSON: {"tool_calls": [{"name": N, "arguments": {…}}]} or
//             {"response": "text"} (templates without tool support, e.g. Gemma; the tools
//             are described to the model in a system message, as llama.cpp does)
// Special tokens spelling these markers (e.g. Mistral's [TOOL_CALLS]) are control tokens
// the grammar cannot produce; under a grammar the markers are written as plain text,
// which the parser reads the same way.
//
// Errors: loom::Error from the schema converter for a tool whose parameters schema is
// not supported (the server's 400, naming the tool).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom::server {

enum class ToolFamily { Hermes, Llama3, Mistral, MistralV3, DeepSeek, Generic };

std::string_view tool_family_name(ToolFamily family);

// The family a chat template writes tool calls in; Generic when it shows none.
ToolFamily detect_tool_family(std::string_view template_source);

struct ToolSpec {
    std::string name;
    nlohmann::ordered_json parameters;  // a JSON schema (an object schema; {} if absent)
};

// GBNF for the calls: one (or, with parallel, one or more) call of any of the tools.
// allow_text (Generic only): {"response": "…"} is an alternative to the calls.
std::string tool_call_grammar(ToolFamily family, const std::vector<ToolSpec>& tools, bool parallel,
                              bool allow_text);

// Text that starts a call in the family's syntax, for tool_choice "auto": generation is
// free until it appears, then constrained by tool_call_grammar from the trigger on.
// at_start: the trigger only counts at the start of the reply (Llama 3's bare JSON).
// Generic has no trigger: its grammar (with allow_text) constrains the whole reply.
struct ToolTrigger {
    std::string text;
    bool at_start = false;
};
ToolTrigger tool_call_trigger(ToolFamily family);

struct ParsedToolCall {
    std::string name;
    std::string arguments;  // JSON text of the arguments object
};

struct ParsedOutput {
    std::string content;  // the text outside the calls (the "response" for Generic)
    std::vector<ParsedToolCall> calls;
};

// The calls in a finished reply; text that does not parse as a call stays content.
ParsedOutput parse_tool_calls(ToolFamily family, std::string_view text);

// Messages prepared for the template: assistant tool_calls arguments given as JSON
// strings become objects (templates apply tojson to them); for Generic, the tools are
// described in a system message, assistant tool calls become their JSON text and tool
// results become user messages, since such templates know neither.
nlohmann::ordered_json prepare_tool_messages(ToolFamily family, nlohmann::ordered_json messages,
                                             const nlohmann::ordered_json* tools);

}  // namespace loom::server

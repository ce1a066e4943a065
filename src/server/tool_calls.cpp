// Tool-call syntax per template family: grammar, trigger, parser, history (see
// tool_calls.h).
#include "server/tool_calls.h"

#include <algorithm>

#include "core/error.h"
#include "server/gbnf_text.h"
#include "server/json_schema_grammar.h"

namespace loom::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kDsCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kDsCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kDsCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kDsCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kDsSep = "<｜tool▁sep｜>";

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Every rule name in GBNF text (definitions and references; in GBNF every bare word is
// one) prefixed, so that several converted schemas live in one grammar. Literals,
// character classes, repetition counts and comments are copied as they are.
std::string prefix_rules(std::string_view gbnf, std::string_view prefix) {
    std::string out;
    out.reserve(gbnf.size() * 2);
    size_t i = 0;
    while (i < gbnf.size()) {
        const char c = gbnf[i];
        if (c == '"' || c == '[') {
            const char close = c == '"' ? '"' : ']';
            out += c;
            ++i;
            while (i < gbnf.size() && gbnf[i] != close) {
                if (gbnf[i] == '\\' && i + 1 < gbnf.size()) out += gbnf[i++];
                out += gbnf[i++];
            }
            if (i < gbnf.size()) out += gbnf[i++];
        } else if (c == '#') {
            while (i < gbnf.size() && gbnf[i] != '\n') out += gbnf[i++];
        } else if (c == '{') {
            // A repetition count, {m}, {m,} or {m,n}: numbers, not rule names.
            while (i < gbnf.size() && gbnf[i] != '}') out += gbnf[i++];
            if (i < gbnf.size()) out += gbnf[i++];
        } else if (is_word_char(c)) {
            size_t j = i;
            while (j < gbnf.size() && is_word_char(gbnf[j])) ++j;
            out += prefix;
            out.append(gbnf.substr(i, j - i));
            i = j;
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

// The arguments grammar of each tool, rules prefixed "tN-" (root: "tN-root").
std::string tool_rules(const std::vector<ToolSpec>& tools) {
    std::string out;
    for (size_t i = 0; i < tools.size(); ++i) {
        std::string gbnf;
        try {
            gbnf = json_schema_to_grammar(tools[i].parameters);
        } catch (const Error& e) {
            throw Error(e.code(), "tools[" + std::to_string(i) + "] (" + tools[i].name + ") parameters: " + e.what());
        }
        out += prefix_rules(gbnf, "t" + std::to_string(i) + "-");
        out += '\n';
    }
    return out;
}

// call ::= one {"name": …, "<key>": …} object of any tool.
std::string json_call_rule(const std::vector<ToolSpec>& tools, std::string_view key) {
    std::string rule = "call ::= ";
    for (size_t i = 0; i < tools.size(); ++i) {
        if (i > 0) rule += " | ";
        rule += gbnf_literal("{\"name\": \"" + tools[i].name + "\", \"" + std::string(key) + "\": ") + " t" +
                std::to_string(i) + "-root " + gbnf_literal("}");
    }
    return rule + "\n";
}

std::string repeated(const std::string& one, const std::string& separator, bool parallel) {
    return parallel ? one + " ( " + separator + " " + one + " )*" : one;
}

std::string trim(std::string_view s) {
    const size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string_view::npos) return {};
    const size_t b = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(a, b - a + 1));
}

// {"name": N, "arguments"|"parameters": {…}} as a call; false if it is not one.
bool call_of(const Json& j, ParsedToolCall& call) {
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return false;
    const Json* args = nullptr;
    if (j.contains("arguments")) args = &j["arguments"];
    else if (j.contains("parameters")) args = &j["parameters"];
    call.name = j["name"].get<std::string>();
    if (args == nullptr) {
        call.arguments = "{}";
    } else if (args->is_string()) {
        call.arguments = args->get<std::string>();
    } else {
        call.arguments = args->dump();
    }
    return true;
}

Json parse_json(std::string_view text) { return Json::parse(text, nullptr, false); }

}  // namespace

std::string_view tool_family_name(ToolFamily family) {
    switch (family) {
        case ToolFamily::Hermes: return "hermes";
        case ToolFamily::Llama3: return "llama3";
        case ToolFamily::Mistral: return "mistral";
        case ToolFamily::MistralV3: return "mistral-v3";
        case ToolFamily::DeepSeek: return "deepseek";
        case ToolFamily::Generic: return "generic";
    }
    return "generic";
}

ToolFamily detect_tool_family(std::string_view t) {
    const auto has = [&](std::string_view s) { return t.find(s) != std::string_view::npos; };
    if (has(kDsCallsBegin)) return ToolFamily::DeepSeek;
    if (has("[TOOL_CALLS]")) return has("[ARGS]") ? ToolFamily::Mistral : ToolFamily::MistralV3;
    if (has("<tool_call>")) return ToolFamily::Hermes;
    if (has("<|start_header_id|>") && has("\"parameters\"")) return ToolFamily::Llama3;
    return ToolFamily::Generic;
}

std::string tool_call_grammar(ToolFamily family, const std::vector<ToolSpec>& tools, bool parallel,
                              bool allow_text) {
    if (tools.empty()) throw Error(ErrorCode::InvalidArgument, "tool calls need at least one tool");
    std::string g = tool_rules(tools);
    switch (family) {
        case ToolFamily::Hermes:
            g += json_call_rule(tools, "arguments");
            g += "root ::= " +
                 repeated(gbnf_literal("<tool_call>\n") + " call " + gbnf_literal("\n</tool_call>"), gbnf_literal("\n"),
                          parallel) +
                 "\n";
            break;
        case ToolFamily::Llama3:
            // Llama 3.x writes one call per turn.
            g += json_call_rule(tools, "parameters");
            g += "root ::= call\n";
            break;
        case ToolFamily::Mistral: {
            std::string mcall = "mcall ::= ";
            for (size_t i = 0; i < tools.size(); ++i) {
                if (i > 0) mcall += " | ";
                // Mistral Small 3.2 writes the call's id between name and arguments.
                mcall += gbnf_literal(tools[i].name) + " ( " + gbnf_literal("[CALL_ID]") + " [a-zA-Z0-9]{9} )? " +
                         gbnf_literal("[ARGS]") + " t" + std::to_string(i) + "-root";
            }
            g += mcall + "\n";
            g += "root ::= " + repeated(gbnf_literal("[TOOL_CALLS]") + " mcall", "", parallel) + "\n";
            break;
        }
        case ToolFamily::MistralV3:
            g += json_call_rule(tools, "arguments");
            g += "root ::= " + gbnf_literal("[TOOL_CALLS][") + " " + repeated("call", gbnf_literal(", "), parallel) +
                 " " + gbnf_literal("]") + "\n";
            break;
        case ToolFamily::DeepSeek: {
            std::string dcall = "dcall ::= " + gbnf_literal(std::string(kDsCallBegin) + "function" + std::string(kDsSep)) +
                                " ( ";
            for (size_t i = 0; i < tools.size(); ++i) {
                if (i > 0) dcall += " | ";
                dcall += gbnf_literal(tools[i].name + "\n```json\n") + " t" + std::to_string(i) + "-root";
            }
            dcall += " ) " + gbnf_literal(std::string("\n```") + std::string(kDsCallEnd));
            g += dcall + "\n";
            g += "root ::= " + gbnf_literal(std::string(kDsCallsBegin)) + " " +
                 repeated("dcall", gbnf_literal("\n"), parallel) + " " + gbnf_literal(std::string(kDsCallsEnd)) + "\n";
            break;
        }
        case ToolFamily::Generic: {
            g += json_call_rule(tools, "arguments");
            const std::string calls = gbnf_literal("{\"tool_calls\": [") + " " +
                                      repeated("call", gbnf_literal(", "), parallel) + " " + gbnf_literal("]}");
            if (allow_text) {
                g += prefix_rules(json_schema_to_grammar(Json{{"type", "string"}}), "r-") + "\n";
                g += "root ::= " + calls + " | " + gbnf_literal("{\"response\": ") + " r-root " + gbnf_literal("}") +
                     "\n";
            } else {
                g += "root ::= " + calls + "\n";
            }
            break;
        }
    }
    return g;
}

ToolTrigger tool_call_trigger(ToolFamily family) {
    switch (family) {
        case ToolFamily::Hermes: return {"<tool_call>", false};
        case ToolFamily::Llama3: return {"{\"name\"", true};
        case ToolFamily::Mistral:
        case ToolFamily::MistralV3: return {"[TOOL_CALLS]", false};
        case ToolFamily::DeepSeek: return {std::string(kDsCallsBegin), false};
        case ToolFamily::Generic: return {};
    }
    return {};
}

ParsedOutput parse_tool_calls(ToolFamily family, std::string_view text) {
    ParsedOutput out;
    switch (family) {
        case ToolFamily::Hermes: {
            size_t pos = 0;
            std::string content;
            while (true) {
                const size_t open = text.find("<tool_call>", pos);
                if (open == std::string_view::npos) break;
                const size_t close = text.find("</tool_call>", open);
                if (close == std::string_view::npos) break;
                ParsedToolCall call;
                const std::string_view body = text.substr(open + 11, close - open - 11);
                if (!call_of(parse_json(trim(body)), call)) break;
                content += text.substr(pos, open - pos);
                out.calls.push_back(std::move(call));
                pos = close + 12;
            }
            std::string_view rest = text.substr(pos);
            // A call cut off by max_tokens is not content.
            if (!out.calls.empty() && rest.find("<tool_call>") != std::string_view::npos) {
                rest = rest.substr(0, rest.find("<tool_call>"));
            }
            content += rest;
            out.content = out.calls.empty() ? std::string(text) : trim(content);
            return out;
        }
        case ToolFamily::Llama3: {
            std::string t = trim(text);
            if (t.rfind("<|python_tag|>", 0) == 0) t = trim(std::string_view(t).substr(14));
            ParsedToolCall call;
            if (!t.empty() && t.front() == '{' && call_of(parse_json(t), call)) {
                out.calls.push_back(std::move(call));
            } else {
                out.content = std::string(text);
            }
            return out;
        }
        case ToolFamily::Mistral: {
            const size_t first = text.find("[TOOL_CALLS]");
            if (first == std::string_view::npos) break;
            std::string_view rest = text.substr(first);
            std::vector<ParsedToolCall> calls;
            while (rest.rfind("[TOOL_CALLS]", 0) == 0) {
                rest.remove_prefix(12);
                const size_t args = rest.find("[ARGS]");
                if (args == std::string_view::npos) break;  // cut off (max_tokens): the calls before stand
                std::string_view name = rest.substr(0, args);
                if (const size_t id = name.find("[CALL_ID]"); id != std::string_view::npos) name = name.substr(0, id);
                ParsedToolCall call{trim(name), ""};
                rest.remove_prefix(args + 6);
                const size_t next = rest.find("[TOOL_CALLS]");
                const Json a = parse_json(trim(rest.substr(0, next)));
                if (a.is_discarded()) break;
                call.arguments = a.dump();
                calls.push_back(std::move(call));
                rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
            }
            if (calls.empty()) break;
            out.content = trim(text.substr(0, first));
            out.calls = std::move(calls);
            return out;
        }
        case ToolFamily::MistralV3: {
            const size_t first = text.find("[TOOL_CALLS]");
            if (first == std::string_view::npos) break;
            const Json list = parse_json(trim(text.substr(first + 12)));
            if (!list.is_array()) break;
            for (const Json& j : list) {
                ParsedToolCall call;
                if (!call_of(j, call)) return ParsedOutput{std::string(text), {}};
                out.calls.push_back(std::move(call));
            }
            out.content = trim(text.substr(0, first));
            return out;
        }
        case ToolFamily::DeepSeek: {
            const size_t first = text.find(kDsCallsBegin);
            if (first == std::string_view::npos) break;
            size_t pos = first;
            while (true) {
                const size_t b = text.find(kDsCallBegin, pos);
                if (b == std::string_view::npos) break;
                const size_t sep = text.find(kDsSep, b);
                const size_t e = text.find(kDsCallEnd, b);
                if (sep == std::string_view::npos || e == std::string_view::npos || sep > e) break;
                std::string_view body = text.substr(sep + kDsSep.size(), e - sep - kDsSep.size());
                const size_t nl = body.find('\n');
                if (nl == std::string_view::npos) break;
                ParsedToolCall call{trim(body.substr(0, nl)), ""};
                std::string args = trim(body.substr(nl + 1));
                if (args.rfind("```json", 0) == 0) args = args.substr(7);
                if (args.size() >= 3 && args.compare(args.size() - 3, 3, "```") == 0) args.resize(args.size() - 3);
                const Json a = parse_json(trim(args));
                if (a.is_discarded()) break;
                call.arguments = a.dump();
                out.calls.push_back(std::move(call));
                pos = e + kDsCallEnd.size();
            }
            if (out.calls.empty()) break;
            out.content = trim(text.substr(0, first));
            return out;
        }
        case ToolFamily::Generic: {
            const Json j = parse_json(trim(text));
            if (j.is_object() && j.contains("tool_calls") && j["tool_calls"].is_array()) {
                for (const Json& c : j["tool_calls"]) {
                    ParsedToolCall call;
                    if (!call_of(c, call)) return ParsedOutput{std::string(text), {}};
                    out.calls.push_back(std::move(call));
                }
                return out;
            }
            if (j.is_object() && j.contains("tool_call")) {
                ParsedToolCall call;
                if (call_of(j["tool_call"], call)) {
                    out.calls.push_back(std::move(call));
                    return out;
                }
            }
            if (j.is_object() && j.contains("response") && j["response"].is_string()) {
                out.content = j["response"].get<std::string>();
                return out;
            }
            break;
        }
    }
    out.content = std::string(text);
    return out;
}

Json prepare_tool_messages(ToolFamily family, Json messages, const Json* tools) {
    for (Json& m : messages) {
        if (!m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
        for (Json& c : m["tool_calls"]) {
            if (!c.contains("function") || !c["function"].is_object()) continue;
            Json& f = c["function"];
            if (f.contains("arguments") && f["arguments"].is_string()) {
                Json parsed = parse_json(f["arguments"].get<std::string>());
                if (!parsed.is_discarded()) f["arguments"] = std::move(parsed);
            }
        }
    }
    if (family != ToolFamily::Generic) return messages;
    // Templates without tool support: the tools and the reply format go into the system
    // message; tool calls and results become plain turns.
    Json out = Json::array();
    std::string system;
    if (tools != nullptr && tools->is_array() && !tools->empty()) {
        system = "You can call these tools (JSON schemas of their parameters):\n" + tools->dump(2) +
                 "\n\nReply with JSON only: {\"tool_calls\": [{\"name\": <tool name>, \"arguments\": {…}}]} to call "
                 "tools, or {\"response\": <your answer>} to answer directly.";
    }
    for (Json& m : messages) {
        const std::string role = m.value("role", "");
        if (role == "system" && out.empty() && !system.empty()) {
            m["content"] = m.value("content", "") + "\n\n" + system;
            system.clear();
        } else if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array()) {
            Json calls = Json::array();
            for (const Json& c : m["tool_calls"]) {
                if (!c.contains("function")) continue;
                calls.push_back({{"name", c["function"].value("name", "")},
                                 {"arguments", c["function"].value("arguments", Json::object())}});
            }
            m = Json{{"role", "assistant"}, {"content", Json{{"tool_calls", calls}}.dump()}};
        } else if (role == "tool") {
            const std::string who = m.value("name", m.value("tool_call_id", std::string("the tool")));
            std::string content = m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>()
                                                                                    : m.value("content", Json()).dump();
            m = Json{{"role", "user"}, {"content", "Result of " + who + ": " + content}};
        }
        out.push_back(std::move(m));
    }
    if (!system.empty()) out.insert(out.begin(), Json{{"role", "system"}, {"content", system}});
    return out;
}

}  // namespace loom::server

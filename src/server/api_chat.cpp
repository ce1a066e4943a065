// /v1/chat/completions: messages through the chat template, response_format and tools
// turned into a grammar (server/tool_calls.h, json_schema_grammar.h), and the reply
// streamed or returned — with the model's tool calls parsed into OpenAI's tool_calls.
//
// Tool choice, and how each is enforced:
//   none      tools are not shown to the template; free text.
//   required  the reply is constrained from its first token to one or more calls (one
//             call with parallel_tool_calls false).
//   named     as required, with that function only and one call.
//   auto      free text until the family's trigger ("<tool_call>", "[TOOL_CALLS]", …)
//             appears; from there the calls are constrained. Generic-family templates
//             (no tool syntax of their own) constrain the whole reply to
//             {"tool_calls": […]} or {"response": "…"}.
// Streaming with tools: text before a call streams as content deltas (the trigger is
// held back like a stop string); calls go out once complete, one delta each with the
// whole arguments JSON, then finish_reason "tool_calls".
#include <memory>
#include <random>

#include "core/error.h"
#include "runtime/stop_strings.h"
#include "server/api_server.h"
#include "server/api_shared.h"
#include "server/openai_format.h"
#include "server/openai_request.h"
#include "server/tool_calls.h"

namespace loom::server {
namespace {

// A tool call id: 9 random letters and digits, the form every template accepts
// (Mistral's refuse any other when the call comes back in the history).
std::string call_id(std::mt19937_64& rng) {
    constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string id(9, ' ');
    for (char& c : id) c = kChars[rng() % kChars.size()];
    return id;
}

// What the reply's text becomes once generation ends.
struct ReplyParser {
    bool tools = false;
    ToolFamily family = ToolFamily::Generic;
    uint64_t id_seed = 0;

    // Fills result.text / tool_calls from the whole generated text.
    void finish(GenerationResult& result, const std::string& text) const {
        result.text = text;
        if (!tools) return;
        ParsedOutput out = parse_tool_calls(family, text);
        result.text = std::move(out.content);
        std::mt19937_64 rng(id_seed);
        for (ParsedToolCall& c : out.calls) {
            result.tool_calls.push_back({call_id(rng), std::move(c.name), std::move(c.arguments)});
        }
        if (!result.tool_calls.empty() && result.finish_reason == "stop") result.finish_reason = "tool_calls";
    }
};

}  // namespace

void ApiServer::chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& responder) {
    ChatRequest chat = parse_chat_request(request.body);
    if (!chat_) throw ApiError(400, chat_error_ + "; use /v1/completions with a raw prompt", "messages");
    // OpenAI's "developer" role is its newer name for "system"; chat templates know "system".
    for (auto& m : chat.messages) {
        if (m["role"] == "developer") m["role"] = "system";
    }
    const StructuredRequest& st = chat.structured;
    const bool tools = !st.tools.empty() && st.tool_choice.mode != ToolChoice::Mode::None;
    const nlohmann::ordered_json messages = prepare_tool_messages(tool_family_, chat.messages, tools ? &st.tools : nullptr);
    std::shared_ptr<GenerationJob> job =
        make_job(chat.sampling, chat_->tokens(messages, tools ? &st.tools : nullptr), responder);
    job->grammar = response_format_grammar(st.response_format);
    const bool constrained_start = tools && (st.tool_choice.mode != ToolChoice::Mode::Auto ||
                                             tool_family_ == ToolFamily::Generic);
    if (tools) {
        std::vector<ToolSpec> specs;
        for (const auto& t : st.tools) {
            const std::string& name = t["function"]["name"].get_ref<const std::string&>();
            if (st.tool_choice.mode == ToolChoice::Mode::Named && name != st.tool_choice.name) continue;
            specs.push_back({name, t["function"]["parameters"]});
        }
        const bool parallel = st.parallel_tool_calls && st.tool_choice.mode != ToolChoice::Mode::Named;
        const bool allow_text = st.tool_choice.mode == ToolChoice::Mode::Auto;
        std::string gbnf;
        try {
            gbnf = tool_call_grammar(tool_family_, specs, parallel, allow_text);
            job->grammar = runtime::Grammar::parse(gbnf);
        } catch (const Error& e) {
            throw ApiError(400, e.what(), "tools");
        }
        if (!constrained_start) {
            const ToolTrigger trigger = tool_call_trigger(tool_family_);
            job->grammar_trigger = trigger.text;
            job->trigger_at_start = trigger.at_start;
        }
    }
    const ResponseMeta meta = make_meta("chatcmpl-");
    std::shared_ptr<ApiShared> shared = shared_;
    const ReplyParser parser{tools, tool_family_, (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()};
    const bool logprobs = chat.sampling.logprobs;
    auto result = std::make_shared<GenerationResult>();
    auto full = std::make_shared<std::string>();  // the whole reply, for the tool-call parser
    if (chat.stream) {
        auto stream = std::make_shared<EventStream>(responder, shared);
        const bool usage = chat.include_usage;
        // Content streams until a call may begin: with a trigger, text that may start it
        // is held back (a StopMatcher on the trigger); when calls are constrained from
        // the start, nothing streams before the end.
        std::shared_ptr<runtime::StopMatcher> held;
        if (tools && !constrained_start) {
            held = std::make_shared<runtime::StopMatcher>(std::vector<std::string>{tool_call_trigger(tool_family_).text});
        }
        auto streamed = std::make_shared<size_t>(0);  // bytes of *full sent as content
        job->on_delta = [stream, meta, tools, constrained_start, held, full, streamed](const GenerationDelta& d) {
            *full += d.text;
            if (!stream->begun()) stream->send(chat_chunk_role(meta));
            if (!tools) {
                stream->send(chat_chunk_delta(meta, d.text, d.logprobs));
                *streamed = full->size();
                return;
            }
            if (constrained_start || held->stopped()) return;
            const std::string text = held->push(d.text);
            if (!text.empty()) {
                stream->send(chat_chunk_delta(meta, text, d.logprobs));
                *streamed += text.size();
            }
        };
        job->on_done = [stream, meta, usage, responder, shared, parser, full, streamed](const GenerationDone& done) {
            if (ended_without_result(done, *shared, *responder, stream.get())) return;
            if (!stream->begun()) stream->send(chat_chunk_role(meta));
            GenerationResult r;
            r.finish_reason = done.finish_reason;
            parser.finish(r, *full);
            if (parser.tools) {
                // What the content deltas have not carried yet: all of the content when
                // nothing streamed (calls from the start), else what followed the held part.
                if (r.tool_calls.empty()) {
                    if (*streamed < full->size()) stream->send(chat_chunk_delta(meta, full->substr(*streamed)));
                } else if (*streamed == 0 && !r.text.empty()) {
                    stream->send(chat_chunk_delta(meta, r.text));
                }
                for (size_t i = 0; i < r.tool_calls.size(); ++i) {
                    stream->send(chat_chunk_tool_call(meta, i, r.tool_calls[i]));
                }
            }
            stream->send(chat_chunk_finish(meta, r.finish_reason));
            if (usage) stream->send(usage_chunk(meta, true, done.prompt_tokens, done.completion_tokens));
            stream->send("[DONE]");
            stream->close();
        };
    } else {
        job->on_delta = [result, full](const GenerationDelta& d) {
            *full += d.text;
            append_logprobs(result->logprobs, d.logprobs);
        };
        job->on_done = [result, full, meta, logprobs, responder, shared, parser](const GenerationDone& done) {
            if (ended_without_result(done, *shared, *responder, nullptr)) return;
            result->finish_reason = done.finish_reason;
            result->prompt_tokens = done.prompt_tokens;
            result->completion_tokens = done.completion_tokens;
            parser.finish(*result, *full);
            shared->reply(*responder, 200, chat_completion_body(meta, *result, logprobs));
        };
    }
    submit(job);
}

}  // namespace loom::server

// The three OpenAI request parsers: chat completions, text completions, embeddings; see
// openai_request.h for what is accepted and refused. Field semantics follow OpenAI's API
// reference; top_k, min_p and repeat_penalty are llama.cpp's extensions. Not here: the
// JSON parse and typed reads (openai_request_json.cpp), anything about the model
// (token ids are checked against the vocabulary, and prompts against the context, by
// the scheduler).
#include "server/openai_request.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "server/openai_request_json.h"
#include "server/openai_structured.h"

namespace loom::server {

namespace {

using namespace request_json;

enum class Endpoint { Chat, Completion };

constexpr size_t kMaxStop = 4;
constexpr size_t kMaxEmbeddingInputs = 2048;
constexpr int64_t kMaxTopLogprobs = 20;
constexpr int64_t kMaxCompletionLogprobs = 5;
constexpr std::array<std::string_view, 5> kRoles = {"system", "developer", "user", "assistant",
                                                    "tool"};

std::string read_model(const Json& body) {
    const Json* model = field(body, "model");
    return model ? as_string(*model, "model") : std::string();
}

void read_stream(const Json& body, bool& stream, bool& include_usage) {
    const Json* s = field(body, "stream");
    stream = s && as_bool(*s, "stream");
    include_usage = false;
    if (const Json* options = field(body, "stream_options")) {
        as_object(*options, "stream_options");
        if (const Json* usage = field(*options, "include_usage")) {
            include_usage = as_bool(*usage, "stream_options.include_usage") && stream;
        }
    }
}

// n and best_of: one choice per request.
void require_one_choice(const Json& body, Endpoint endpoint) {
    if (const Json* n = field(body, "n")) {
        int64_t count = as_integer(*n, "n", 1, std::numeric_limits<int64_t>::max());
        if (count > 1) invalid("n", "n > 1 is not supported; got " + std::to_string(count));
    }
    if (endpoint != Endpoint::Completion) return;
    if (const Json* best_of = field(body, "best_of")) {
        int64_t count = as_integer(*best_of, "best_of", 1, std::numeric_limits<int64_t>::max());
        if (count > 1) {
            invalid("best_of", "best_of > 1 is not supported; got " + std::to_string(count));
        }
    }
}

float read_float(const Json& body, const char* name, double min, double max) {
    return static_cast<float>(as_number(*field(body, name), name, min, max));
}

void read_stop(const Json& value, std::vector<std::string>& stop) {
    if (value.is_string()) {
        if (!value.get_ref<const std::string&>().empty()) stop.push_back(value.get<std::string>());
        return;
    }
    if (!value.is_array()) {
        invalid("stop",
                "stop must be a string or an array of up to 4 strings; got " + describe(value));
    }
    if (value.size() > kMaxStop) {
        invalid("stop", "stop must have at most 4 entries; got " + std::to_string(value.size()));
    }
    for (size_t i = 0; i < value.size(); ++i) {
        const std::string& s = as_string(value[i], element_path("stop", i));
        if (!s.empty()) stop.push_back(s);
    }
}

void read_logit_bias(const Json& value, std::vector<std::pair<int32_t, float>>& out) {
    as_object(value, "logit_bias");
    for (const auto& [key, bias] : value.items()) {
        int32_t id = -1;
        auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (key.empty() || ec != std::errc() || end != key.data() + key.size() || id < 0 ||
            key[0] == '-') {
            invalid("logit_bias",
                    "logit_bias keys must be token ids (non-negative integers as strings); got " +
                        describe(Json(key)));
        }
        std::string path = member_path("logit_bias", key);
        out.emplace_back(id, static_cast<float>(as_number(bias, path, -100.0, 100.0)));
    }
}

void read_logprobs(const Json& body, Endpoint endpoint, SamplingRequest& s) {
    if (endpoint == Endpoint::Completion) {
        // The legacy API's logprobs is the number of alternatives to return per token.
        if (const Json* n = field(body, "logprobs")) {
            if (n->is_boolean()) {
                invalid("logprobs",
                        "logprobs must be an integer between 0 and 5 on /v1/completions (the "
                        "number of alternatives per token); got " +
                            describe(*n));
            }
            s.logprobs = true;
            s.top_logprobs =
                static_cast<uint32_t>(as_integer(*n, "logprobs", 0, kMaxCompletionLogprobs));
        }
        return;
    }
    if (const Json* lp = field(body, "logprobs")) s.logprobs = as_bool(*lp, "logprobs");
    if (const Json* top = field(body, "top_logprobs")) {
        s.top_logprobs =
            static_cast<uint32_t>(as_integer(*top, "top_logprobs", 0, kMaxTopLogprobs));
        if (s.top_logprobs > 0 && !s.logprobs) {
            invalid("top_logprobs", "top_logprobs needs logprobs set to true");
        }
    }
}

SamplingRequest read_sampling(const Json& body, Endpoint endpoint) {
    SamplingRequest s;
    if (field(body, "temperature")) s.temperature = read_float(body, "temperature", 0.0, 2.0);
    if (field(body, "top_p")) s.top_p = read_float(body, "top_p", 0.0, 1.0);
    if (field(body, "min_p")) s.min_p = read_float(body, "min_p", 0.0, 1.0);
    if (field(body, "presence_penalty")) {
        s.presence_penalty = read_float(body, "presence_penalty", -2.0, 2.0);
    }
    if (field(body, "frequency_penalty")) {
        s.frequency_penalty = read_float(body, "frequency_penalty", -2.0, 2.0);
    }
    if (const Json* v = field(body, "repeat_penalty")) {
        double p = v->is_number() ? v->get<double>() : 0.0;
        if (!(p > 0.0 && p <= std::numeric_limits<float>::max())) {
            invalid("repeat_penalty", "repeat_penalty must be a number > 0; got " + describe(*v));
        }
        s.repeat_penalty = static_cast<float>(p);
    }
    if (const Json* v = field(body, "top_k")) {
        s.top_k =
            static_cast<int32_t>(as_integer(*v, "top_k", 0, std::numeric_limits<int32_t>::max()));
    }
    if (const Json* v = field(body, "seed")) {
        // Any int64 (the API's type); a negative seed keeps its bit pattern.
        s.seed = static_cast<uint64_t>(as_integer(*v, "seed", std::numeric_limits<int64_t>::min(),
                                                  std::numeric_limits<int64_t>::max()));
    }
    // max_completion_tokens replaces the deprecated max_tokens; it wins when both are set.
    for (const char* name : {"max_tokens", "max_completion_tokens"}) {
        if (const Json* v = field(body, name)) {
            s.max_tokens = static_cast<uint32_t>(
                as_integer(*v, name, 1, std::numeric_limits<uint32_t>::max()));
        }
    }
    if (const Json* v = field(body, "stop")) read_stop(*v, s.stop);
    if (const Json* v = field(body, "logit_bias")) read_logit_bias(*v, s.logit_bias);
    read_logprobs(body, endpoint, s);
    require_one_choice(body, endpoint);
    return s;
}

// --- chat messages -------------------------------------------------------------

// A content part's type other than "text": say that it is not supported, or unknown.
[[noreturn]] void refuse_part(const std::string& type, const std::string& path) {
    static constexpr std::array<std::string_view, 6> kMedia = {
        "image_url", "input_image", "image", "input_audio", "audio", "file"};
    for (std::string_view media : kMedia) {
        if (type == media) {
            invalid(path, "content parts of type \"" + type +
                              "\" are not supported (text only); send text parts");
        }
    }
    invalid(path, path + " must be \"text\"; got " + describe(Json(type)));
}

// A message's content as one string: a string, or an array of text parts joined with "\n".
std::string content_text(const Json& content, const std::string& path) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) {
        invalid(path,
                path + " must be a string or an array of text parts; got " + describe(content));
    }
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        std::string part_path = element_path(path, i);
        const Json& part = as_object(content[i], part_path);
        const Json* type = field(part, "type");
        std::string type_path = member_path(part_path, "type");
        if (!type) invalid(type_path, type_path + " is missing; expected \"text\"");
        const std::string& name = as_string(*type, type_path);
        if (name != "text") refuse_part(name, type_path);
        std::string text_path = member_path(part_path, "text");
        const Json* part_text = field(part, "text");
        if (!part_text) invalid(text_path, text_path + " is missing; expected a string");
        if (i > 0) text += '\n';
        text += as_string(*part_text, text_path);
    }
    return text;
}

// tool_calls as history: an array of {"function": {"name": string, "arguments": string}, …}.
void check_tool_calls(const Json& calls, const std::string& path) {
    as_array(calls, path);
    for (size_t i = 0; i < calls.size(); ++i) {
        std::string call_path = element_path(path, i);
        const Json& call = as_object(calls[i], call_path);
        std::string function_path = member_path(call_path, "function");
        const Json* function = field(call, "function");
        if (!function) invalid(function_path, function_path + " is missing; expected an object");
        as_object(*function, function_path);
        std::string name_path = member_path(function_path, "name");
        const Json* name = field(*function, "name");
        if (!name) invalid(name_path, name_path + " is missing; expected a string");
        as_string(*name, name_path);
        if (const Json* arguments = field(*function, "arguments")) {
            as_string(*arguments, member_path(function_path, "arguments"));
        }
    }
}

Json normalize_message(Json& message, const std::string& path) {
    as_object(message, path);
    std::string role_path = member_path(path, "role");
    const Json* role_value = field(message, "role");
    if (!role_value) {
        invalid(
            role_path,
            role_path + " is missing; expected one of system, developer, user, assistant, tool");
    }
    const std::string& role = as_string(*role_value, role_path);
    bool known = false;
    for (std::string_view r : kRoles) known = known || role == r;
    if (!known) {
        invalid(role_path, role_path +
                               " must be one of system, developer, user, assistant, tool; got " +
                               describe(*role_value));
    }

    const Json* tool_calls = field(message, "tool_calls");
    std::string tool_calls_path = member_path(path, "tool_calls");
    if (tool_calls) {
        if (role != "assistant") {
            invalid(
                tool_calls_path,
                tool_calls_path + " is only allowed on assistant messages; this one is " + role);
        }
        check_tool_calls(*tool_calls, tool_calls_path);
        if (tool_calls->empty()) tool_calls = nullptr;
    }
    for (const char* name : {"name", "tool_call_id"}) {
        if (const Json* v = field(message, name)) as_string(*v, member_path(path, name));
    }

    std::string content_path = member_path(path, "content");
    const Json* content = field(message, "content");
    if (!content && !(role == "assistant" && tool_calls)) {
        invalid(content_path, content_path +
                                  " is missing or null; only an assistant message with tool_calls "
                                  "may leave out content");
    }

    Json out = Json::object();
    out["role"] = role;
    out["content"] = content ? content_text(*content, content_path) : std::string();
    for (auto& [key, value] : message.items()) {
        if (key == "role" || key == "content" || value.is_null()) continue;
        if (key == "tool_calls" && value.empty()) continue;
        out[key] = std::move(value);
    }
    return out;
}

Json normalize_messages(Json& body) {
    Json* messages = body.contains("messages") ? &body["messages"] : nullptr;
    if (!messages || messages->is_null()) {
        invalid("messages", "messages is missing; expected a non-empty array of messages");
    }
    as_array(*messages, "messages");
    if (messages->empty()) invalid("messages", "messages must not be empty");
    Json out = Json::array();
    for (size_t i = 0; i < messages->size(); ++i) {
        out.push_back(normalize_message((*messages)[i], element_path("messages", i)));
    }
    return out;
}

// --- completion prompts and embedding inputs -----------------------------------

std::vector<int32_t> token_ids(const Json& array, const std::string& path) {
    std::vector<int32_t> ids;
    ids.reserve(array.size());
    for (size_t i = 0; i < array.size(); ++i) {
        ids.push_back(as_token_id(array[i], element_path(path, i)));
    }
    return ids;
}

void read_prompt(const Json& body, CompletionRequest& r) {
    const Json* prompt = field(body, "prompt");
    if (!prompt) invalid("prompt", "prompt is missing; expected a string or an array of token ids");
    if (prompt->is_string()) {
        r.prompt_text = prompt->get<std::string>();
        return;
    }
    if (!prompt->is_array()) {
        invalid("prompt",
                "prompt must be a string or an array of token ids; got " + describe(*prompt));
    }
    if (prompt->empty()) invalid("prompt", "prompt must not be empty");
    const Json& first = (*prompt)[0];
    if (first.is_number()) {
        r.prompt_tokens = token_ids(*prompt, "prompt");
        r.prompt_is_tokens = true;
        return;
    }
    if (!first.is_string() && !first.is_array()) {
        invalid("prompt[0]",
                "prompt[0] must be a string, a token id or an array of token ids; got " +
                    describe(first));
    }
    if (prompt->size() > 1) {
        invalid("prompt", "batched prompts are not supported; got " +
                              std::to_string(prompt->size()) +
                              " prompts (send one request per prompt)");
    }
    if (first.is_string()) {
        r.prompt_text = first.get<std::string>();
        return;
    }
    if (first.empty()) invalid("prompt[0]", "prompt[0] must not be empty");
    r.prompt_tokens = token_ids(first, "prompt[0]");
    r.prompt_is_tokens = true;
}

EmbeddingInput embedding_input(const Json& value, const std::string& path) {
    EmbeddingInput in;
    if (value.is_string()) {
        in.text = value.get<std::string>();
        if (in.text.empty()) invalid(path, path + " must not be empty");
        return in;
    }
    if (!value.is_array()) {
        invalid(path, path + " must be a string or an array of token ids; got " + describe(value));
    }
    if (value.empty()) invalid(path, path + " must not be empty");
    in.tokens = token_ids(value, path);
    in.is_tokens = true;
    return in;
}

void read_inputs(const Json& body, EmbeddingRequest& r) {
    const Json* input = field(body, "input");
    if (!input) {
        invalid(
            "input",
            "input is missing; expected a string, an array of strings or an array of token ids");
    }
    if (input->is_string()) {
        r.inputs.push_back(embedding_input(*input, "input"));
        return;
    }
    if (!input->is_array()) {
        invalid("input",
                "input must be a string, an array of strings or an array of token ids; got " +
                    describe(*input));
    }
    if (input->empty()) invalid("input", "input must not be empty");
    if ((*input)[0].is_number()) {  // one input given as token ids
        r.inputs.push_back(embedding_input(*input, "input"));
        return;
    }
    if (input->size() > kMaxEmbeddingInputs) {
        invalid("input",
                "input must have at most 2048 entries; got " + std::to_string(input->size()));
    }
    for (size_t i = 0; i < input->size(); ++i) {
        std::string path = element_path("input", i);
        const Json& item = (*input)[i];
        if (!item.is_string() && !item.is_array()) {
            invalid(path,
                    path + " must be a string or an array of token ids; got " + describe(item));
        }
        r.inputs.push_back(embedding_input(item, path));
    }
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body_text) {
    Json body = parse_json_object(body_text);
    ChatRequest r;
    r.structured = read_structured(body);
    r.model = read_model(body);
    r.messages = normalize_messages(body);
    r.sampling = read_sampling(body, Endpoint::Chat);
    read_stream(body, r.stream, r.include_usage);
    return r;
}

CompletionRequest parse_completion_request(std::string_view body_text) {
    Json body = parse_json_object(body_text);
    reject_tools(body);
    CompletionRequest r;
    r.response_format = read_response_format(body);
    r.model = read_model(body);
    read_prompt(body, r);
    if (const Json* suffix = field(body, "suffix"); suffix && *suffix != "") {
        invalid("suffix",
                "suffix is not supported (no fill-in-the-middle); got " + describe(*suffix));
    }
    r.sampling = read_sampling(body, Endpoint::Completion);
    read_stream(body, r.stream, r.include_usage);
    if (const Json* echo = field(body, "echo")) r.echo = as_bool(*echo, "echo");
    return r;
}

EmbeddingRequest parse_embedding_request(std::string_view body_text) {
    Json body = parse_json_object(body_text);
    EmbeddingRequest r;
    r.model = read_model(body);
    read_inputs(body, r);
    if (const Json* format = field(body, "encoding_format")) {
        const std::string& name = as_string(*format, "encoding_format");
        if (name != "float" && name != "base64") {
            invalid("encoding_format",
                    "encoding_format must be \"float\" or \"base64\"; got " + describe(*format));
        }
        r.base64 = name == "base64";
    }
    if (const Json* dimensions = field(body, "dimensions")) {
        invalid("dimensions",
                "dimensions is not supported (this model's embeddings have a fixed size); got " +
                    describe(*dimensions));
    }
    return r;
}

}  // namespace loom::server

// Parsing of tools, tool_choice and response_format (see openai_structured.h).
#include "server/openai_structured.h"

#include <set>

#include "server/openai_request_json.h"

namespace loom::server {

using namespace request_json;

namespace {

// OpenAI's rule for function names.
bool valid_function_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-';
        if (!ok) return false;
    }
    return true;
}

void reject_functions(const Json& body) {
    if (const Json* f = field(body, "functions"); f && !(f->is_array() && f->empty())) {
        invalid("functions", "functions is deprecated and not supported; send the same definitions as tools");
    }
    if (const Json* c = field(body, "function_call"); c && *c != "none") {
        invalid("function_call", "function_call is deprecated and not supported; use tool_choice");
    }
}

}  // namespace

ResponseFormat read_response_format(const Json& body) {
    ResponseFormat rf;
    const Json* format = field(body, "response_format");
    if (!format) return rf;
    as_object(*format, "response_format");
    const Json* type = field(*format, "type");
    if (!type) invalid("response_format.type", "response_format.type is missing; expected \"text\", \"json_object\" or \"json_schema\"");
    const std::string& name = as_string(*type, "response_format.type");
    if (name == "text") return rf;
    if (name == "json_object") {
        rf.kind = ResponseFormat::Kind::JsonObject;
        return rf;
    }
    if (name != "json_schema") {
        invalid("response_format.type", "response_format.type must be \"text\", \"json_object\" or \"json_schema\"; got " +
                                            describe(*type));
    }
    rf.kind = ResponseFormat::Kind::JsonSchema;
    const Json* js = field(*format, "json_schema");
    if (!js) invalid("response_format.json_schema", "response_format.json_schema is missing (with name and schema)");
    as_object(*js, "response_format.json_schema");
    if (const Json* n = field(*js, "name")) rf.name = as_string(*n, "response_format.json_schema.name");
    if (const Json* st = field(*js, "strict")) rf.strict = as_bool(*st, "response_format.json_schema.strict");
    const Json* schema = field(*js, "schema");
    if (!schema) invalid("response_format.json_schema.schema", "response_format.json_schema.schema is missing");
    if (!schema->is_object() && !schema->is_boolean()) {
        invalid("response_format.json_schema.schema",
                "response_format.json_schema.schema must be a JSON schema object; got " + describe(*schema));
    }
    rf.schema = *schema;
    return rf;
}

void reject_tools(const Json& body) {
    reject_functions(body);
    if (const Json* tools = field(body, "tools"); tools && !(tools->is_array() && tools->empty())) {
        invalid("tools", "tools are for /v1/chat/completions; /v1/completions takes a raw prompt");
    }
}

StructuredRequest read_structured(const Json& body) {
    reject_functions(body);
    StructuredRequest r;
    std::set<std::string> names;
    if (const Json* tools = field(body, "tools")) {
        as_array(*tools, "tools");
        for (size_t i = 0; i < tools->size(); ++i) {
            const std::string path = element_path("tools", i);
            const Json& t = as_object((*tools)[i], path);
            const Json* type = field(t, "type");
            if (!type || as_string(*type, member_path(path, "type")) != "function") {
                invalid(member_path(path, "type"), member_path(path, "type") + " must be \"function\"");
            }
            const Json* fn = field(t, "function");
            const std::string fpath = member_path(path, "function");
            if (!fn) invalid(fpath, fpath + " is missing");
            as_object(*fn, fpath);
            const Json* name = field(*fn, "name");
            if (!name) invalid(member_path(fpath, "name"), member_path(fpath, "name") + " is missing");
            const std::string& n = as_string(*name, member_path(fpath, "name"));
            if (!valid_function_name(n)) {
                invalid(member_path(fpath, "name"), member_path(fpath, "name") +
                                                        " must be 1 to 64 of a-z, A-Z, 0-9, _ and -; got " + describe(*name));
            }
            if (!names.insert(n).second) invalid(member_path(fpath, "name"), "two tools are named " + describe(*name));
            if (const Json* d = field(*fn, "description")) as_string(*d, member_path(fpath, "description"));
            Json params = Json::object();
            if (const Json* p = field(*fn, "parameters")) params = as_object(*p, member_path(fpath, "parameters"));
            Json tool = {{"type", "function"}, {"function", {{"name", n}}}};
            // Templates read description unconditionally; OpenAI makes it optional.
            tool["function"]["description"] = field(*fn, "description") ? *field(*fn, "description") : Json("");
            tool["function"]["parameters"] = params;
            r.tools.push_back(std::move(tool));
        }
    }
    if (const Json* choice = field(body, "tool_choice")) {
        if (choice->is_string()) {
            const std::string& c = choice->get_ref<const std::string&>();
            if (c == "none") r.tool_choice.mode = ToolChoice::Mode::None;
            else if (c == "auto") r.tool_choice.mode = ToolChoice::Mode::Auto;
            else if (c == "required") r.tool_choice.mode = ToolChoice::Mode::Required;
            else invalid("tool_choice", "tool_choice must be \"none\", \"auto\", \"required\" or a function; got " + describe(*choice));
        } else {
            as_object(*choice, "tool_choice");
            const Json* fn = field(*choice, "function");
            const Json* name = fn && fn->is_object() ? field(*fn, "name") : nullptr;
            if (!name) invalid("tool_choice", "tool_choice must name a function: {\"type\": \"function\", \"function\": {\"name\": …}}");
            r.tool_choice.mode = ToolChoice::Mode::Named;
            r.tool_choice.name = as_string(*name, "tool_choice.function.name");
            if (!names.count(r.tool_choice.name)) {
                invalid("tool_choice.function.name", "tool_choice names " + describe(*name) + ", which is not among the tools");
            }
        }
        if (r.tools.empty() && (r.tool_choice.mode == ToolChoice::Mode::Required)) {
            invalid("tool_choice", "tool_choice \"required\" needs tools");
        }
    }
    if (const Json* p = field(body, "parallel_tool_calls")) r.parallel_tool_calls = as_bool(*p, "parallel_tool_calls");
    r.response_format = read_response_format(body);
    if (r.response_format.kind != ResponseFormat::Kind::Text && !r.tools.empty() &&
        r.tool_choice.mode != ToolChoice::Mode::None) {
        invalid("response_format", "response_format other than text cannot be combined with tools (unless tool_choice is \"none\")");
    }
    return r;
}

}  // namespace loom::server

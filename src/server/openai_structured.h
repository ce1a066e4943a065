// The structured-output fields of a request: tools, tool_choice, parallel_tool_calls,
// response_format (and the deprecated functions / function_call, refused with a pointer
// to tools). Validated into StructuredRequest / ResponseFormat (openai_types.h); schemas
// are only checked for shape here, and converted to grammars by the API layer.
//
// Errors: ApiError 400 with the field's path as param, as the other request parsers.
#pragma once

#include <nlohmann/json.hpp>

#include "server/openai_types.h"

namespace loom::server {

StructuredRequest read_structured(const nlohmann::ordered_json& body);
ResponseFormat read_response_format(const nlohmann::ordered_json& body);
// Completions take response_format but not tools.
void reject_tools(const nlohmann::ordered_json& body);

}  // namespace loom::server

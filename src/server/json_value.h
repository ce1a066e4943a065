// Conversion of parsed JSON (nlohmann, which stays in the layers at the edge) into
// Jinja template values, keeping object key order.
#pragma once

#include <nlohmann/json.hpp>

#include "jinja/value.h"

namespace loom::server {

jinja::Value json_to_value(const nlohmann::ordered_json& json);

}  // namespace loom::server

// JSON -> Jinja value conversion.
#include "server/json_value.h"

namespace loom::server {

jinja::Value json_to_value(const nlohmann::ordered_json& json) {
    switch (json.type()) {
        case nlohmann::ordered_json::value_t::null: return jinja::Value(jinja::None{});
        case nlohmann::ordered_json::value_t::boolean: return jinja::Value(json.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return jinja::Value(json.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            auto u = json.get<uint64_t>();
            return u <= static_cast<uint64_t>(INT64_MAX) ? jinja::Value(static_cast<int64_t>(u))
                                                         : jinja::Value(static_cast<double>(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return jinja::Value(json.get<double>());
        case nlohmann::ordered_json::value_t::string: return jinja::Value(json.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            jinja::List list;
            for (const auto& item : json) list.push_back(json_to_value(item));
            return jinja::Value(std::move(list));
        }
        case nlohmann::ordered_json::value_t::object: {
            jinja::Dict dict;
            for (const auto& [k, v] : json.items()) dict.set(k, json_to_value(v));
            return jinja::Value(std::move(dict));
        }
        default: return jinja::Value(jinja::None{});
    }
}

}  // namespace loom::server

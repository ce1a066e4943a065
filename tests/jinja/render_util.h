// Renders a template string with an optional JSON-free context for the Jinja tests.
#pragma once

#include <string>

#include "jinja/template.h"

namespace loom::test {

inline std::string render(const std::string& source, const jinja::Dict& context = {}) {
    return jinja::Template::parse(source).render(context);
}

}  // namespace loom::test

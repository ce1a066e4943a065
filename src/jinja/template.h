// Jinja templates as Hugging Face renders chat templates: jinja2's sandboxed
// environment with trim_blocks and lstrip_blocks, loop controls, a tojson that keeps
// non-ASCII text, and the raise_exception and strftime_now globals. A subset of jinja2
// (what real chat templates use), with Python semantics for values and operators.
//
//   auto tmpl = loom::jinja::Template::parse(source);
//   Dict context;  context.set("messages", ...);
//   std::string prompt = tmpl.render(context);
//
// Errors: parse() throws loom::Error (Format) naming the line and the construct it
// cannot parse; render() throws loom::Error (Format) naming the line for a
// template error (an undefined value used, a type error, an unknown filter or test, an
// unsafe method such as list.append, as the sandbox forbids), and for raise_exception
// the template's own message prefixed with "template raised: ".
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "jinja/ast.h"
#include "jinja/value.h"

namespace loom::jinja {

struct RenderOptions {
    // The time strftime_now() formats; the current local time when unset.
    std::optional<std::time_t> now;
    // Budgets that stop a hostile template (templates come inside model files): output
    // bytes, and statements plus loop iterations executed.
    size_t max_output_bytes = 64u << 20;
    uint64_t max_steps = 5'000'000;
};

class Template {
public:
    static Template parse(std::string_view source);

    std::string render(const Dict& context, const RenderOptions& options = {}) const;

private:
    std::shared_ptr<const Body> body_;  // shared: macros defined while rendering point into it
};

}  // namespace loom::jinja

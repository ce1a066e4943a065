// Jinja fuzz entry.
#include "fuzz/jinja_entry.h"

#include <string_view>

#include "core/error.h"
#include "jinja/template.h"

namespace loom::fuzz {
namespace {

jinja::Dict conversation() {
    jinja::Dict user;
    user.set("role", jinja::Value("user"));
    user.set("content", jinja::Value("Hello <b> {{x}}"));
    jinja::Dict call;
    call.set("name", jinja::Value("f"));
    call.set("arguments", jinja::Value(jinja::Dict{}));
    jinja::Dict assistant;
    assistant.set("role", jinja::Value("assistant"));
    assistant.set("content", jinja::Value(jinja::None{}));
    assistant.set("tool_calls", jinja::Value(jinja::List{jinja::Value(call)}));
    jinja::Dict ctx;
    ctx.set("messages", jinja::Value(jinja::List{jinja::Value(user), jinja::Value(assistant)}));
    ctx.set("tools", jinja::Value(jinja::None{}));
    ctx.set("add_generation_prompt", jinja::Value(true));
    ctx.set("bos_token", jinja::Value("<s>"));
    return ctx;
}

}  // namespace

int jinja_one_input(const uint8_t* data, size_t size) {
    std::string_view source(reinterpret_cast<const char*>(data), size);
    jinja::RenderOptions options;
    options.now = 0;
    options.max_steps = 200000;  // keeps each input fast; the budget logic is what is tested
    options.max_output_bytes = 1 << 20;
    try {
        jinja::Template t = jinja::Template::parse(source);
        volatile size_t n = t.render(conversation(), options).size();
        (void)n;
    } catch (const Error&) {
        // Rejected with a message: expected for malformed or failing templates.
    }
    return 0;
}

}  // namespace loom::fuzz

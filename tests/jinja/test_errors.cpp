// Template errors: syntax errors name the line, runtime errors name the problem, the
// sandbox refuses mutating methods, budgets stop runaway templates.
#include <gtest/gtest.h>

#include "core/error.h"
#include "render_util.h"

namespace loom::jinja {
namespace {

using loom::test::render;

std::string error_of(const std::string& source) {
    try {
        render(source);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(JinjaErrors, SyntaxErrorsNameTheLine) {
    EXPECT_NE(error_of("a\n{% if x %}\nno end").find("missing '{% endif %}'"), std::string::npos);
    EXPECT_NE(error_of("{{ 1 + }}").find("template line 1"), std::string::npos);
    EXPECT_NE(error_of("\n\n{% include 'x' %}").find("template line 3: unsupported statement 'include'"), std::string::npos);
    EXPECT_NE(error_of("{{ 'abc }}").find("unterminated string"), std::string::npos);
}

TEST(JinjaErrors, RuntimeErrors) {
    EXPECT_NE(error_of("{{ x.y }}").find("'x' is undefined"), std::string::npos);
    EXPECT_NE(error_of("{{ 1 + 'a' }}").find("unsupported operand type(s) for +: 'int' and 'str'"), std::string::npos);
    EXPECT_NE(error_of("{{ [1] | nosuchfilter }}").find("no filter named 'nosuchfilter'"), std::string::npos);
    EXPECT_NE(error_of("{{ raise_exception('bad role') }}").find("template raised: bad role"), std::string::npos);
    EXPECT_NE(error_of("{% set l = [] %}{{ l.append(1) }}").find("access to attribute 'append' of 'list' object is unsafe"),
              std::string::npos);
    EXPECT_NE(error_of("{{ [1] | map('upper') | length }}").find("has no len()"), std::string::npos);
}

TEST(JinjaErrors, FiltersCheckTheirArgumentTypes) {
    // Regression (fuzzer): these threw std::bad_variant_access and ended the process.
    EXPECT_NE(error_of("{{ ['a', 'b'] | sum }}").find("sum: expected a number, got str"), std::string::npos);
    EXPECT_NE(error_of("{{ 'x' | round }}").find("round: expected a number"), std::string::npos);
    EXPECT_NE(error_of("{{ '%d' | format('x') }}").find("expected a number"), std::string::npos);
}

TEST(JinjaErrors, CyclesDoNotLeak) {
    // Run under the ASan build, LeakSanitizer fails this test if either cycle leaks.
    EXPECT_EQ(render("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns.me.a }}"), "1");
    EXPECT_EQ(render("{% macro m() %}x{% endmacro %}{{ m() }}"), "x");
}

TEST(JinjaErrors, HostileTemplatesStop) {
    EXPECT_NE(error_of("{{" + std::string(3000, '(') + "1" + std::string(3000, ')') + "}}").find("nesting deeper"),
              std::string::npos);
    RenderOptions small;
    small.max_steps = 10000;
    try {
        Template::parse("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
            .render({}, small);
        FAIL() << "expected the step budget to stop the loop";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("more than 10000 steps"), std::string::npos) << e.what();
    }
    small.max_output_bytes = 1000;
    small.max_steps = 1000000;
    try {
        Template::parse("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}").render({}, small);
        FAIL() << "expected the output budget to stop the loop";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("output passed 1000 bytes"), std::string::npos) << e.what();
    }
    EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("recursed"), std::string::npos);
}

}  // namespace
}  // namespace loom::jinja

// Whitespace control as jinja2 with trim_blocks and lstrip_blocks: "-" modifiers, the
// newline after block tags, blanks before block tags, raw blocks, comments.
#include <gtest/gtest.h>

#include "render_util.h"

namespace loom::jinja {
namespace {

using loom::test::render;

TEST(JinjaLexer, TrimBlocksDropsNewlineAfterBlockTags) {
    EXPECT_EQ(render("{% if true %}\nyes\n{% endif %}\nend"), "yes\nend");
    EXPECT_EQ(render("{{ 'a' }}\nb"), "a\nb");  // not after expression tags
}

TEST(JinjaLexer, LstripBlocksDropsBlanksBeforeBlockTags) {
    EXPECT_EQ(render("  {% if true %}x{% endif %}"), "x");
    EXPECT_EQ(render("a  {% if true %}x{% endif %}"), "a  x");  // not at a line start
    EXPECT_EQ(render("a\n    {% if true %}x\n    {% endif %}\nb"), "a\nx\nb");
    EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");
}

TEST(JinjaLexer, DashStripsAllWhitespace) {
    EXPECT_EQ(render("a  \n {{- 'b' -}} \n\n c"), "abc");
    EXPECT_EQ(render("a\n{%- if true -%}\n  b\n{%- endif -%}\n c"), "abc");
}

TEST(JinjaLexer, CommentsAndRaw) {
    EXPECT_EQ(render("a{# note #}b"), "ab");
    EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
    EXPECT_EQ(render("{# multi\nline #}\nx"), "x");
}

TEST(JinjaLexer, StringsAndNumbers) {
    EXPECT_EQ(render("{{ 'it\\'s' ~ \"\\n\" ~ 1_000 ~ 2.5 }}"), "it's\n10002.5");
    EXPECT_EQ(render("{{ 'a' 'b' }}"), "ab");
}

}  // namespace
}  // namespace loom::jinja

// Jinja parser: tokens -> syntax tree, following jinja2's grammar and operator
// precedence (parser.py): conditional, or, and, not, comparisons/in, + -, ~, * / // %,
// **, unary, then postfix (.attr, [item], [a:b:c], calls) and filters/tests.
// Statements: if/elif/else, for (with "if" filter, else, recursive), set (value, block,
// namespace attribute, tuple targets), macro, call, filter, generation, break, continue.
// Unknown statements (include, extends, import, ...) are errors naming the construct.
#pragma once

#include <vector>

#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace loom::jinja {

// Throws loom::Error (Format) naming the line and the construct.
Body parse(const std::vector<Token>& tokens);

}  // namespace loom::jinja

// The Jinja syntax tree: expressions and statements, built by the parser, walked by
// the interpreter. Nodes carry their template line for error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace loom::jinja {

enum class ExprKind {
    Literal, Name, ListLiteral, TupleLiteral, DictLiteral, Attr, Item, Slice, Call, Filter, Test, Unary, Binary,
    Conditional,
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct CallArgs {
    std::vector<ExprPtr> positional;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Expr {
    ExprKind kind;
    size_t line = 0;
    Value value;                 // Literal
    std::string name;            // Name, Attr, Filter, Test; operator of Unary/Binary
    ExprPtr a, b, c, d;          // operands: object/left/cond, index/right/then, else, step
    std::vector<ExprPtr> items;  // ListLiteral, TupleLiteral
    std::vector<std::pair<ExprPtr, ExprPtr>> pairs;  // DictLiteral
    CallArgs args;               // Call, Filter, Test
    bool negated = false;        // Test: "is not"

    Expr(ExprKind k, size_t l) : kind(k), line(l) {}
};

enum class NodeKind { Text, Output, If, For, Set, Macro, CallBlock, FilterBlock, Block, Break, Continue };

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
    NodeKind kind;
    size_t line = 0;
    std::string text;                                  // Text; Set: name; Macro: name; FilterBlock: filter
    ExprPtr expr;                                      // Output; For: iterable; Set: value
    ExprPtr filter;                                    // For: "if" clause; Set: namespace object
    std::vector<std::pair<ExprPtr, Body>> branches;    // If: condition + body
    Body body;                                         // For, Set (block), Macro, CallBlock, FilterBlock, Block
    Body else_body;                                    // If, For
    std::vector<std::string> targets;                  // For / Set targets (tuple unpacking)
    std::string attr;                                  // Set: namespace attribute
    std::vector<std::pair<std::string, ExprPtr>> params;  // Macro parameters with defaults
    CallArgs args;                                     // FilterBlock filter arguments; CallBlock call
    bool recursive = false;                            // For

    Node(NodeKind k, size_t l) : kind(k), line(l) {}
};

}  // namespace loom::jinja

// Grammar: the compiled, immutable form and its printout (see grammar.h). Parsing is in
// grammar_parser.cpp, compilation and checks in grammar_builder.cpp.
#include "runtime/grammar.h"

#include <cstdio>
#include <utility>

namespace loom::runtime {
namespace {

void append_byte(std::string& out, unsigned b) {
    if (b >= 0x21 && b <= 0x7E && b != '\\' && b != ']' && b != '[' && b != '-' && b != '^') {
        out += static_cast<char>(b);
        return;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", b);
    out += buf;
}

void append_class(std::string& out, const ByteClass& cls) {
    out += '[';
    unsigned b = 0;
    while (b < 256) {
        if (!cls.contains(static_cast<uint8_t>(b))) {
            ++b;
            continue;
        }
        unsigned end = b;
        while (end + 1 < 256 && cls.contains(static_cast<uint8_t>(end + 1))) ++end;
        append_byte(out, b);
        if (end > b) {
            out += '-';
            append_byte(out, end);
        }
        b = end + 1;
    }
    out += ']';
}

}  // namespace

Grammar::Grammar(Parts parts) : parts_(std::move(parts)) {}

std::string Grammar::to_string() const {
    std::string out;
    for (uint32_t rule = 0; rule < rule_count(); ++rule) {
        out += parts_.rule_names[rule];
        out += " ::=";
        bool first = true;
        for (uint32_t pos : alternatives(rule)) {
            if (!first) out += " |";
            first = false;
            for (; element(pos).op != GrammarOp::End; ++pos) {
                out += ' ';
                const GrammarElement& e = element(pos);
                if (e.op == GrammarOp::Rule) {
                    out += parts_.rule_names[e.arg];
                } else {
                    append_class(out, parts_.classes[e.arg]);
                }
            }
        }
        out += '\n';
    }
    return out;
}

}  // namespace loom::runtime

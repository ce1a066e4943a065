// The constrained-decoding flags of `loom run`:
//
//   --grammar FILE       a GBNF grammar (llama.cpp's format; runtime/grammar.h)
//   --json-schema FILE   a JSON Schema; the output is JSON that validates against it
//                        (converted by server/json_schema_grammar.h)
//
//   GrammarArgs grammar;
//   add_grammar_options(app, grammar);
//   ... after parsing:
//   std::shared_ptr<const runtime::Grammar> g = load_grammar(grammar);   // null: none
//
// Errors: load_grammar throws loom::Error with the flag and file in front of the reason:
// both flags given (InvalidArgument), a file that cannot be read (Io), JSON that does not
// parse (Format), a grammar or schema the converter rejects (its own code and message,
// with line and column or JSON pointer).
#pragma once

#include <memory>
#include <string>

#include "runtime/grammar.h"

namespace CLI {
class App;
}

namespace loom::cli {

struct GrammarArgs {
    std::string grammar_file;
    std::string json_schema_file;
};

void add_grammar_options(CLI::App& app, GrammarArgs& args);

std::shared_ptr<const runtime::Grammar> load_grammar(const GrammarArgs& args);

}  // namespace loom::cli

// --grammar and --json-schema (see grammar_options.h).
#include "cli/grammar_options.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "server/json_schema_grammar.h"

namespace loom::cli {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, "cannot open the file");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error(ErrorCode::Io, "cannot read the file");
    return text.str();
}

}  // namespace

void add_grammar_options(CLI::App& app, GrammarArgs& args) {
    app.add_option("--grammar", args.grammar_file,
                   "Constrain the output to this GBNF grammar (file)")
        ->type_name("FILE");
    app.add_option("--json-schema", args.json_schema_file,
                   "Constrain the output to JSON valid against this JSON Schema (file)")
        ->type_name("FILE");
}

std::shared_ptr<const runtime::Grammar> load_grammar(const GrammarArgs& args) {
    if (!args.grammar_file.empty() && !args.json_schema_file.empty()) {
        throw Error(ErrorCode::InvalidArgument, "give --grammar or --json-schema, not both");
    }
    if (!args.grammar_file.empty()) {
        try {
            return runtime::Grammar::parse(read_file(args.grammar_file));
        } catch (Error& e) {
            throw e.with_context("--grammar " + args.grammar_file);
        }
    }
    if (!args.json_schema_file.empty()) {
        try {
            nlohmann::ordered_json schema;
            try {
                schema = nlohmann::ordered_json::parse(read_file(args.json_schema_file));
            } catch (const nlohmann::json::parse_error& e) {
                throw Error(ErrorCode::Format, std::string("not JSON: ") + e.what());
            }
            return runtime::Grammar::parse(server::json_schema_to_grammar(schema));
        } catch (Error& e) {
            throw e.with_context("--json-schema " + args.json_schema_file);
        }
    }
    return nullptr;
}

}  // namespace loom::cli

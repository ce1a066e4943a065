// `loom tokenize`: options, reading the text, the three output formats.
#include "cli/tokenize_command.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cli/default_model.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace loom::cli {
namespace {

struct TokenizeArgs {
    std::string model;
    std::string file;
    std::string text;
    bool text_given = false;
    bool no_add_special = false;
    bool parse_special = false;
    std::string format = "ids";
    std::string pre_fallback;
};

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) throw Error(ErrorCode::Io, path + ": read failed");
    return s.str();
}

// A piece for display: valid UTF-8 kept, control characters and invalid bytes escaped.
std::string display(std::string_view piece) {
    std::string out;
    size_t i = 0;
    while (i < piece.size()) {
        size_t n = tokenizer::utf8_sequence_length(static_cast<uint8_t>(piece[i]));
        std::string_view seq = piece.substr(i, std::min(n, piece.size() - i));
        auto c = static_cast<uint8_t>(piece[i]);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !tokenizer::utf8_is_valid(seq))) {
            static constexpr char hex[] = "0123456789abcdef";
            switch (c) {
                case '\n': out += "\\n"; break;
                case '\t': out += "\\t"; break;
                case '\r': out += "\\r"; break;
                default:
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 15];
            }
            ++i;
            continue;
        }
        out += seq;
        i += seq.size();
    }
    return out;
}

}  // namespace

CommandRun setup_tokenize(CLI::App& app) {
    auto args = std::make_shared<TokenizeArgs>();
    app.add_option("TEXT", args->text, "Text to tokenize (default: --file, else standard input)");
    app.add_option("-m,--model", args->model, "GGUF model or vocabulary file (default: the default model)");
    app.add_option("-f,--file", args->file, "Read the text from this file");
    app.add_flag("--no-add-special", args->no_add_special, "Do not add BOS/EOS tokens");
    app.add_flag("--parse-special", args->parse_special,
                 "Recognize control tokens written in the text (e.g. <start_of_turn>)");
    app.add_option("--pre-fallback", args->pre_fallback,
                   "For a tokenizer.ggml.pre Loom does not know, split text as this one does "
                   "(e.g. default, llama3); tokens may then differ from the model's own");
    app.add_option("--format", args->format, "ids (one line), pieces (id and piece per line), or json")
        ->check(CLI::IsMember({"ids", "pieces", "json"}));
    return [args, &app](Io& io) {
        std::string text;
        if (app.count("TEXT") > 0) {
            if (!args->file.empty()) {
                throw Error(ErrorCode::InvalidArgument, "give the text or --file, not both");
            }
            text = args->text;
        } else if (!args->file.empty()) {
            text = read_text_file(args->file);
        } else {
            text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        }
        std::string path = args->model.empty() ? default_model_path() : args->model;
        gguf::GgufFile file = gguf::GgufFile::open(path);
        tokenizer::TokenizerOptions options;
        options.fallback_pre = args->pre_fallback;
        tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_gguf(file, options);
        std::vector<tokenizer::TokenId> ids = tok.encode(text, !args->no_add_special, args->parse_special);
        if (args->format == "ids") {
            for (size_t i = 0; i < ids.size(); ++i) io.out << (i ? " " : "") << ids[i];
            io.out << '\n';
        } else if (args->format == "pieces") {
            for (tokenizer::TokenId id : ids) {
                io.out << id << "\t'" << display(tok.piece(id, true)) << "'\n";
            }
        } else {
            nlohmann::json tokens = nlohmann::json::array();
            for (tokenizer::TokenId id : ids) {
                tokens.push_back({{"id", id}, {"piece", tok.piece(id, true)}});
            }
            nlohmann::json doc = {{"count", ids.size()}, {"tokens", tokens}};
            io.out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        }
        return 0;
    };
}

}  // namespace loom::cli

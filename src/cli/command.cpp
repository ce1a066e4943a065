// `loom` top level: the subcommand table, --help/--version, and the boundary where
// every error becomes one line on stderr and an exit code.
#include "cli/command.h"

#include <CLI/CLI.hpp>

#include <array>
#include <iostream>

#include "cli/bench_command.h"
#include "cli/build_info.h"
#include "cli/chat_command.h"
#include "cli/inspect_command.h"
#include "cli/quantize_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/template_command.h"
#include "cli/tokenize_command.h"
#include "core/error.h"

namespace loom::cli {
namespace {

constexpr std::array<Command, 8> kCommands = {{
    {"run", "Generate text from a prompt, streamed", setup_run},
    {"chat", "Chat with a model through its chat template", setup_chat},
    {"serve", "Serve the OpenAI-compatible HTTP API (chat, completions, embeddings)", setup_serve},
    {"inspect", "Show the metadata and tensors of a GGUF file", setup_inspect},
    {"template", "Render a chat template for a conversation, exactly as the model sees it",
     setup_template},
    {"bench", "Measure prompt-processing and generation speed in tokens/s", setup_bench},
    {"tokenize", "Show the token ids of a text under a model's tokenizer", setup_tokenize},
    {"quantize", "Convert a GGUF model to another file type (Q4_K_M, Q8_0, F16, ...)",
     setup_quantize},
}};

std::string version_text() {
    return std::string("loom ") + kVersion + " (commit " + kGitCommit + ")";
}

// CLI11 messages can span lines; the user gets one.
std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

}  // namespace

int run_main(int argc, char** argv, Io& io) {
    CLI::App app("Loom: a local-first LLM system. Runs GGUF models on this machine, offline.",
                 "loom");
    app.set_version_flag("--version", version_text());
    app.require_subcommand(1);
    app.footer("Run 'loom COMMAND --help' for the options of a command.");

    CommandRun chosen;
    std::vector<std::pair<CLI::App*, CommandRun>> runs;
    for (const Command& command : kCommands) {
        CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.description));
        runs.emplace_back(sub, command.setup(*sub));
    }

    if (argc > 1 && argv[1][0] != '-') {
        std::string_view word = argv[1];
        bool known = false;
        for (const Command& command : kCommands) known = known || command.name == word;
        if (!known) {
            io.err << "loom: unknown command '" << word << "' (see 'loom --help')\n";
            return kExitUsage;
        }
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        io.out << app.help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        io.out << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::CallForVersion&) {
        io.out << version_text() << "\n";
        return 0;
    } catch (const CLI::ParseError& e) {
        // Subcommand --help arrives here as CallForHelp from the subcommand's parse.
        if (e.get_exit_code() == 0) {
            for (auto& [sub, run] : runs) {
                if (sub->parsed()) {
                    io.out << sub->help();
                    return 0;
                }
            }
            io.out << app.help();
            return 0;
        }
        // Name the first unrecognized word when CLI11 only says a subcommand is missing.
        std::string message = one_line(e.what());
        for (const std::string& word : app.remaining()) {
            if (!word.empty() && word[0] == '-') {
                message = "unknown option '" + word + "'";
                break;
            }
        }
        io.err << "loom: " << message << " (see 'loom --help')\n";
        return kExitUsage;
    }

    for (auto& [sub, run] : runs) {
        if (!sub->parsed()) continue;
        try {
            return run(io);
        } catch (const loom::Error& e) {
            io.err << "loom " << sub->get_name() << ": " << one_line(e.what()) << "\n";
            return e.code() == ErrorCode::InvalidArgument ? kExitUsage : kExitFailure;
        } catch (const std::exception& e) {
            io.err << "loom " << sub->get_name() << ": " << one_line(e.what()) << "\n";
            return kExitFailure;
        }
    }
    return kExitUsage;  // unreachable: require_subcommand(1) guarantees one parsed
}

}  // namespace loom::cli

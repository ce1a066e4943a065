// The subcommand contract of the `loom` command: each subcommand registers its flags on
// a CLI11 app and returns the function that runs it after parsing. main.cpp lists them
// in one table; it owns error handling (one line on stderr, non-zero exit).
#pragma once

#include <functional>
#include <iosfwd>
#include <string_view>

namespace CLI {
class App;
}

namespace loom::cli {

// Streams a command writes to: requested output to out, everything else to err.
struct Io {
    std::ostream& out;
    std::ostream& err;
};

// Runs the parsed command; returns the process exit code.
using CommandRun = std::function<int(Io&)>;

struct Command {
    std::string_view name;
    std::string_view description;
    // Adds the subcommand's options to app; the returned function runs it.
    CommandRun (*setup)(CLI::App& app);
};

// Exit codes: 0 success, 1 a failed operation (bad file, I/O), 2 bad usage.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Builds the full `loom` app, parses argv, runs the chosen command. Never throws.
int run_main(int argc, char** argv, Io& io);

}  // namespace loom::cli

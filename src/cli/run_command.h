// `loom run [-m MODEL] (-p TEXT | --file PATH) [-n N] [--temp T] [--top-k K] [--top-p P]
// [--min-p P] [--seed S] [-c CTX] [-t THREADS] [--echo] [--verbose]`: streams the
// continuation of a prompt to stdout; timings and load messages go to stderr.
#pragma once

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_run(CLI::App& app);

}  // namespace loom::cli

// `loom tokenize [-m MODEL] [--file PATH] [--no-add-special] [--parse-special]
// [--format ids|pieces|json] [TEXT]`: the token ids of a text under a model's tokenizer.
// Text comes from TEXT, else --file, else standard input.
#pragma once

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_tokenize(CLI::App& app);

}  // namespace loom::cli

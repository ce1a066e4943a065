// `loom chat [-m MODEL] [--chat-template FILE] [--system TEXT] [-n N] [--temp T] ...`:
// an interactive conversation through the model's chat template, with streamed replies,
// history, multi-line input (end a line with \), and the commands /reset, /system TEXT,
// /save FILE, /load FILE, /exit. Ctrl-C stops the current reply; Ctrl-D leaves.
#pragma once

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_chat(CLI::App& app);

}  // namespace loom::cli

// `loom template (-m MODEL | --template FILE) --messages FILE.json [--tools FILE.json]
// [--add-generation-prompt] [--bos-token S] [--eos-token S] [--now ISO-8601]
// [--chat-template-kwargs JSON]`: renders a chat template exactly as the model would
// see the prompt, and prints only that on stdout.
#pragma once

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_template(CLI::App& app);

}  // namespace loom::cli

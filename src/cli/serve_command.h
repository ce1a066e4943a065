// `loom serve [-m MODEL] [--host 127.0.0.1] [--port 8080] [--parallel N] [-c CTX]
// [-t THREADS] [--api-key KEY] [--max-body BYTES] [--queue N] [--chat-template FILE]`:
// the OpenAI-compatible HTTP API (src/server/api_server.h) until SIGINT or SIGTERM,
// then a graceful stop: no new connections, requests in flight finish (bounded), exit 0.
#pragma once

#include "cli/command.h"

namespace loom::cli {

CommandRun setup_serve(CLI::App& app);

}  // namespace loom::cli

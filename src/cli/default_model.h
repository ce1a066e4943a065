// Where `loom` finds its model when -m is not given: $LOOM_MODEL, else the model the
// README set-up installed (recorded at build time), else the cache path the set-up
// uses ($LOOM_CACHE, $XDG_CACHE_HOME/loom or ~/.cache/loom, then
// models/gemma-3-270m-q4_k_m.gguf).
#pragma once

#include <string>

namespace loom::cli {

// The path to use; the file may not exist (the loader then reports it).
std::string default_model_path();

}  // namespace loom::cli

// Default model resolution.
#include "cli/default_model.h"

#include <cstdlib>
#include <filesystem>

#include "cli/build_info.h"

namespace loom::cli {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
}

}  // namespace

std::string default_model_path() {
    if (std::string m = env("LOOM_MODEL"); !m.empty()) return m;
    std::string cache = env("LOOM_CACHE");
    if (cache.empty()) {
        if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty()) {
            cache = xdg + "/loom";
        } else if (std::string home = env("HOME"); !home.empty()) {
            cache = home + "/.cache/loom";
        }
    }
    std::string from_cache = cache.empty() ? std::string() : cache + "/models/gemma-3-270m-q4_k_m.gguf";
    std::string built_in = kDefaultModel;
    std::error_code ec;
    if (!from_cache.empty() && std::filesystem::exists(from_cache, ec)) return from_cache;
    if (!built_in.empty()) return built_in;
    return from_cache.empty() ? std::string("gemma-3-270m-q4_k_m.gguf") : from_cache;
}

}  // namespace loom::cli

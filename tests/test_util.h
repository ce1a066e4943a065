// Helpers shared by the C++ tests: fixture paths and file reading.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace loom::test {

inline std::filesystem::path fixture(const std::string& name) {
    return std::filesystem::path(LOOM_FIXTURES_DIR) / name;
}

inline std::filesystem::path default_model() { return LOOM_DEFAULT_MODEL; }

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace loom::test

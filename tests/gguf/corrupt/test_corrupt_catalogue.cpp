// The corrupt-GGUF catalogue: every file in tests/gguf/corrupt/ (written by
// scripts/gen_corrupt_gguf.py) must be rejected by GgufFile::open, and by GgufFile::parse
// on the same bytes, with the loom::Error code and message substring that manifest.tsv
// lists for it. Every message must start with the file name and name a byte offset
// ("byte N") or, for the well-known-key checks, the key ("key K"). One test per row; the
// manifest must list every .gguf in the folder, so no file is silently skipped.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "test_util.h"

namespace loom::test {
namespace {

constexpr size_t kMinCases = 30;

std::filesystem::path corrupt_dir() {
    return std::filesystem::path(LOOM_TESTS_DIR) / "gguf" / "corrupt";
}

struct CorruptCase {
    size_t line = 0;          // 1-based line in manifest.tsv
    std::string file;         // name in corrupt_dir()
    std::string code;         // error_code_name of the expected code
    std::string substring;    // the message must contain this
    std::string description;
    bool well_formed = false;  // four non-empty tab-separated fields
};

// Test names and failure output show the file, not the struct's bytes.
void PrintTo(const CorruptCase& c, std::ostream* out) { *out << c.file; }

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
        size_t tab = line.find('\t', start);
        fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
        if (tab == std::string::npos) return fields;
        start = tab + 1;
    }
}

// Rows of manifest.tsv after the header line; empty when the file is missing (the
// ManifestCoversFolder test reports that).
std::vector<CorruptCase> load_manifest() {
    std::vector<CorruptCase> cases;
    std::ifstream in(corrupt_dir() / "manifest.tsv");
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        if (n == 1 || line.empty()) continue;  // header: file, code, substring, description
        std::vector<std::string> fields = split_tabs(line);
        CorruptCase c;
        c.line = n;
        c.file = fields[0];
        if (fields.size() == 4) {
            c.code = fields[1];
            c.substring = fields[2];
            c.description = fields[3];
            c.well_formed = !c.file.empty() && !c.code.empty() && !c.substring.empty();
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

const std::vector<CorruptCase>& manifest() {
    static const std::vector<CorruptCase> cases = load_manifest();
    return cases;
}

bool is_code_name(const std::string& name) {
    constexpr std::array kCodes = {ErrorCode::Io,       ErrorCode::Format,
                                   ErrorCode::Unsupported, ErrorCode::InvalidArgument,
                                   ErrorCode::OutOfRange, ErrorCode::NotFound};
    for (ErrorCode code : kCodes) {
        if (error_code_name(code) == name) return true;
    }
    return false;
}

// Checks one rejection: code, substring, file name first, and an offset or key named.
void check_error(const CorruptCase& c, const Error& e, const std::string& source) {
    std::string message = e.what();
    EXPECT_EQ(error_code_name(e.code()), c.code) << message;
    EXPECT_NE(message.find(c.substring), std::string::npos)
        << "message: " << message << "\nexpected to contain: " << c.substring;
    EXPECT_EQ(message.rfind(source + ": ", 0), 0u) << "message does not start with the file: "
                                                   << message;
    EXPECT_TRUE(message.find("byte ") != std::string::npos ||
                message.find("key ") != std::string::npos)
        << "message names neither a byte offset nor a key: " << message;
}

// Runs f, which must throw loom::Error, and checks the error against c.
template <typename F>
void expect_rejected(const CorruptCase& c, const std::string& source, F f) {
    try {
        f();
        ADD_FAILURE() << c.file << " (" << c.description << ") was accepted";
    } catch (const Error& e) {
        check_error(c, e, source);
    } catch (const std::exception& e) {
        ADD_FAILURE() << c.file << ": threw a non-loom exception: " << e.what();
    }
}

class CorruptFile : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(CorruptFile, IsRejected) {
    const CorruptCase& c = GetParam();
    ASSERT_TRUE(c.well_formed) << "manifest.tsv line " << c.line
                               << ": expected 4 non-empty tab-separated fields";
    ASSERT_TRUE(is_code_name(c.code)) << "manifest.tsv line " << c.line << ": unknown code "
                                      << c.code;
    std::filesystem::path path = corrupt_dir() / c.file;
    ASSERT_TRUE(std::filesystem::is_regular_file(path)) << path;
    SCOPED_TRACE(c.file + ": " + c.description);

    expect_rejected(c, path.string(), [&] { gguf::GgufFile::open(path); });

    std::vector<uint8_t> bytes = read_bytes(path);
    expect_rejected(c, "in-memory " + c.file,
                    [&] { gguf::GgufFile::parse(bytes, "in-memory " + c.file); });
}

std::string case_name(const ::testing::TestParamInfo<CorruptCase>& info) {
    std::string name = std::filesystem::path(info.param.file).stem().string();
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    return name.empty() ? "line_" + std::to_string(info.param.line) : name;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, CorruptFile, ::testing::ValuesIn(manifest()), case_name);

TEST(CorruptCatalogue, ManifestCoversFolder) {
    const std::vector<CorruptCase>& cases = manifest();
    EXPECT_GE(cases.size(), kMinCases) << "manifest.tsv is missing or short in "
                                       << corrupt_dir();
    std::set<std::string> listed;
    for (const CorruptCase& c : cases) {
        EXPECT_TRUE(listed.insert(c.file).second)
            << "manifest.tsv line " << c.line << ": " << c.file << " is listed twice";
    }
    size_t on_disk = 0;
    for (const auto& entry : std::filesystem::directory_iterator(corrupt_dir())) {
        if (entry.path().extension() != ".gguf") continue;
        ++on_disk;
        EXPECT_TRUE(listed.count(entry.path().filename().string()))
            << entry.path() << " is not in manifest.tsv: regenerate with "
            << "scripts/gen_corrupt_gguf.py";
    }
    EXPECT_EQ(on_disk, listed.size()) << "manifest.tsv lists files that are not in the folder";
}

}  // namespace
}  // namespace loom::test

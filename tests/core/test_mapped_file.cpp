// Tests of MappedFile: mapping, empty files, errors, moves.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/mapped_file.h"

namespace loom {
namespace {

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
    auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

TEST(MappedFile, MapsContent) {
    auto path = temp_file("loom_mapped_file_test.bin", "hello");
    MappedFile file = MappedFile::open(path);
    ASSERT_EQ(file.size(), 5u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.bytes().data()), 5), "hello");
    MappedFile moved = std::move(file);
    EXPECT_EQ(moved.size(), 5u);
    EXPECT_EQ(file.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
    std::filesystem::remove(path);
}

TEST(MappedFile, EmptyFileIsEmptySpan) {
    auto path = temp_file("loom_mapped_file_empty.bin", "");
    MappedFile file = MappedFile::open(path);
    EXPECT_EQ(file.size(), 0u);
    EXPECT_TRUE(file.bytes().empty());
    std::filesystem::remove(path);
}

TEST(MappedFile, MissingFileNamesPath) {
    try {
        MappedFile::open("/nonexistent/loom/model.gguf");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/loom/model.gguf"), std::string::npos);
    }
}

TEST(MappedFile, DirectoryIsRejected) {
    EXPECT_THROW(MappedFile::open(std::filesystem::temp_directory_path()), Error);
}

}  // namespace
}  // namespace loom

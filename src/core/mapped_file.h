// MappedFile: a read-only memory map of a whole file (RAII). Model weights are views
// into it, so a model costs page cache, not heap. Empty files map to an empty span.
// Does not parse anything; see gguf/ for that.
//
//   loom::MappedFile file = loom::MappedFile::open("model.gguf");
//   std::span<const uint8_t> bytes = file.bytes();
//
// Errors: open() throws loom::Error(ErrorCode::Io) naming the path and the system error
// when the file cannot be opened, is not a regular file, or cannot be mapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace loom {

class MappedFile {
public:
    static MappedFile open(const std::filesystem::path& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
    size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }

    // Asks the kernel to read the whole file ahead (MADV_WILLNEED); a hint only.
    void prefetch() const noexcept;

private:
    void release() noexcept;

    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    std::string path_;
};

}  // namespace loom

// MappedFile: POSIX mmap of a whole file, read-only and private.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace loom {
namespace {

Error io_error(const std::string& path, std::string_view what, int err) {
    return Error(ErrorCode::Io, path + ": " + std::string(what) + ": " + std::strerror(err));
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path) {
    MappedFile file;
    file.path_ = path.string();
    FileDescriptor fd(::open(file.path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw io_error(file.path_, "cannot open", errno);
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) throw io_error(file.path_, "cannot stat", errno);
    if (!S_ISREG(info.st_mode)) {
        throw Error(ErrorCode::Io, file.path_ + ": not a regular file");
    }
    file.size_ = static_cast<size_t>(info.st_size);
    if (file.size_ == 0) return file;
    void* addr = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (addr == MAP_FAILED) throw io_error(file.path_, "cannot map", errno);
    file.data_ = static_cast<const uint8_t*>(addr);
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        path_ = std::move(other.path_);
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

void MappedFile::prefetch() const noexcept {
    if (data_ != nullptr) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_WILLNEED);
}

}  // namespace loom

//===- MappedFile.cpp - a read-only memory-mapped file --------------------===//

#include "runtime/support/MappedFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace lathe::rt;

namespace {

/// Closes a descriptor when it goes out of scope.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd(fd) {}
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor() {
    if (fd >= 0)
      ::close(fd);
  }
  int get() const { return fd; }

private:
  int fd;
};

} // namespace

Expected<MappedFile> MappedFile::open(const std::string &path) {
  // O_NONBLOCK keeps a FIFO from blocking the open; it is rejected below and
  // means nothing for regular files.
  int fd;
  do
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return makeError(path, ": cannot open: ", std::strerror(errno));
  FileDescriptor guard(fd);

  struct stat info;
  if (::fstat(fd, &info) != 0)
    return makeError(path, ": cannot stat: ", std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return makeError(path, ": is a directory, not a file");
  if (!S_ISREG(info.st_mode))
    return makeError(path, ": is not a regular file");
  if (info.st_size < 0)
    return makeError(path, ": has a negative size");

  uint64_t length = uint64_t(info.st_size);
  if (length == 0)
    return MappedFile(path, nullptr, 0);
  if (length > std::numeric_limits<size_t>::max())
    return makeError(path, ": ", length,
                     " bytes do not fit in this machine's address space");
  void *mapped = ::mmap(nullptr, size_t(length), PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapped == MAP_FAILED)
    return makeError(path, ": cannot map ", length,
                     " bytes: ", std::strerror(errno));
  return MappedFile(path, static_cast<const uint8_t *>(mapped), length);
}

MappedFile::MappedFile(MappedFile &&other) noexcept
    : filePath(std::move(other.filePath)), bytes(other.bytes),
      length(other.length) {
  other.bytes = nullptr;
  other.length = 0;
}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
  if (this != &other) {
    unmap();
    filePath = std::move(other.filePath);
    bytes = other.bytes;
    length = other.length;
    other.bytes = nullptr;
    other.length = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { unmap(); }

void MappedFile::unmap() {
  if (bytes)
    ::munmap(const_cast<uint8_t *>(bytes), size_t(length));
  bytes = nullptr;
  length = 0;
}

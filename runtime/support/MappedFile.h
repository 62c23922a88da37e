//===- MappedFile.h - a read-only memory-mapped file ------------*- C++ -*-===//
//
// Weights are read in place: the file is mapped read-only and its pages come
// in as they are touched. The mapping is private and read-only; a file that
// another process truncates while mapped faults (SIGBUS) on access, which no
// check here can prevent.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_MAPPEDFILE_H
#define LATHE_RUNTIME_SUPPORT_MAPPEDFILE_H

#include "runtime/support/Status.h"

#include <cstdint>
#include <string>
#include <utility>

namespace lathe::rt {

class MappedFile {
public:
  /// Maps the regular file `path`. An empty file maps to data() == nullptr
  /// and size() == 0. Errors read "PATH: cannot open: reason" and the like.
  static Expected<MappedFile> open(const std::string &path);

  MappedFile(MappedFile &&other) noexcept;
  MappedFile &operator=(MappedFile &&other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  const uint8_t *data() const { return bytes; }
  uint64_t size() const { return length; }
  const std::string &path() const { return filePath; }

private:
  MappedFile(std::string path, const uint8_t *bytes, uint64_t length)
      : filePath(std::move(path)), bytes(bytes), length(length) {}
  void unmap();

  std::string filePath;
  const uint8_t *bytes = nullptr;
  uint64_t length = 0;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_MAPPEDFILE_H

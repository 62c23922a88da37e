//===- Memory.cpp - the executor's own memory -----------------------------===//

#include "runtime/exec/Memory.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sys/mman.h>

using namespace lathe::rt;

Expected<MemoryRegion> MemoryRegion::reserve(uint64_t bytes,
                                             const std::string &what) {
  MemoryRegion region;
  if (bytes == 0)
    return region;
  if (bytes > std::numeric_limits<size_t>::max() / 2)
    return makeError(what, ": ", bytes,
                     " bytes do not fit in this machine's address space");
  void *mapped = ::mmap(nullptr, size_t(bytes), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED)
    return makeError(what, ": cannot reserve ", bytes,
                     " bytes of memory: ", std::strerror(errno));
  region.bytes = static_cast<uint8_t *>(mapped);
  region.length = bytes;
  return region;
}

MemoryRegion::MemoryRegion(MemoryRegion &&other) noexcept
    : bytes(other.bytes), length(other.length) {
  other.bytes = nullptr;
  other.length = 0;
}

MemoryRegion &MemoryRegion::operator=(MemoryRegion &&other) noexcept {
  if (this != &other) {
    release();
    bytes = other.bytes;
    length = other.length;
    other.bytes = nullptr;
    other.length = 0;
  }
  return *this;
}

MemoryRegion::~MemoryRegion() { release(); }

void MemoryRegion::release() {
  if (bytes)
    ::munmap(bytes, size_t(length));
  bytes = nullptr;
  length = 0;
}

AlignedBuffer::AlignedBuffer(AlignedBuffer &&other) noexcept
    : bytes(other.bytes), length(other.length), capacity(other.capacity) {
  other.bytes = nullptr;
  other.length = other.capacity = 0;
}

AlignedBuffer &AlignedBuffer::operator=(AlignedBuffer &&other) noexcept {
  if (this != &other) {
    std::free(bytes);
    bytes = other.bytes;
    length = other.length;
    capacity = other.capacity;
    other.bytes = nullptr;
    other.length = other.capacity = 0;
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { std::free(bytes); }

Status AlignedBuffer::resize(uint64_t size) {
  if (size <= capacity && bytes) {
    length = size;
    return Status::success();
  }
  if (size > std::numeric_limits<size_t>::max() / 2)
    return makeError(size, " bytes do not fit in memory");
  uint64_t rounded = (std::max<uint64_t>(size, 1) + kBufferAlignment - 1) /
                     kBufferAlignment * kBufferAlignment;
  void *fresh = nullptr;
  if (::posix_memalign(&fresh, kBufferAlignment, size_t(rounded)) != 0)
    return makeError("cannot allocate ", size, " bytes");
  std::free(bytes);
  bytes = static_cast<uint8_t *>(fresh);
  length = size;
  capacity = rounded;
  return Status::success();
}

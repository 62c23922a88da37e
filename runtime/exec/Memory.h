//===- Memory.h - the executor's own memory --------------------*- C++ -*-===//
//
// Two kinds. A MemoryRegion is anonymous virtual memory reserved at its
// full size (the KV cache, a function's arena) with MAP_NORESERVE: pages
// cost nothing until a kernel first writes them, so a cache sized for
// max_seq_len costs what the sequences actually use. An AlignedBuffer is
// ordinary heap memory at 64-byte alignment that grows as needed and is
// reused across calls (staged inputs and outputs), so kernels may assume
// every buffer they get is 64-byte aligned.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_MEMORY_H
#define LATHE_RUNTIME_EXEC_MEMORY_H

#include "runtime/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace lathe::rt {

/// The alignment of every buffer the executor allocates.
constexpr size_t kBufferAlignment = 64;

class MemoryRegion {
public:
  MemoryRegion() = default;
  /// Reserves `bytes` of zeroed, page-aligned memory committed on first
  /// touch. 0 bytes gives an empty region (data() == nullptr). Errors name
  /// `what`.
  static Expected<MemoryRegion> reserve(uint64_t bytes,
                                        const std::string &what);

  MemoryRegion(MemoryRegion &&other) noexcept;
  MemoryRegion &operator=(MemoryRegion &&other) noexcept;
  MemoryRegion(const MemoryRegion &) = delete;
  MemoryRegion &operator=(const MemoryRegion &) = delete;
  ~MemoryRegion();

  uint8_t *data() const { return bytes; }
  uint64_t size() const { return length; }

private:
  void release();

  uint8_t *bytes = nullptr;
  uint64_t length = 0;
};

class AlignedBuffer {
public:
  AlignedBuffer() = default;
  AlignedBuffer(AlignedBuffer &&other) noexcept;
  AlignedBuffer &operator=(AlignedBuffer &&other) noexcept;
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;
  ~AlignedBuffer();

  /// Makes room for `bytes` (keeping nothing); errors, without context,
  /// when memory runs out.
  Status resize(uint64_t bytes);
  /// After resize(), at least 64 bytes of aligned memory even for a size
  /// of 0, so that a pointer to an empty tensor is still valid and aligned.
  uint8_t *data() const { return bytes; }
  uint64_t size() const { return length; }

private:
  uint8_t *bytes = nullptr;
  uint64_t length = 0, capacity = 0;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_MEMORY_H

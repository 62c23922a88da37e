//===- BufferPlan.h - placing buffers in one arena --------------*- C++ -*-===//
//
// An entry's activations live in one scratch arena. Each buffer is alive
// from the launch that first touches it to the last one that does; buffers
// alive at the same time must not overlap, others may share bytes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_BUFFERPLAN_H
#define LATHE_COMPILER_BUFFERPLAN_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>

namespace lathe {

struct BufferLifetime {
  int64_t bytes = 0;
  /// The first and last launch (inclusive) that use the buffer.
  int64_t first = 0, last = 0;
};

struct BufferPlan {
  /// Byte offset of each buffer, in the order given; multiples of the
  /// alignment.
  llvm::SmallVector<int64_t> offsets;
  /// The arena's size: the end of the furthest buffer, aligned.
  int64_t bytes = 0;
};

/// Places the buffers largest first, each at the lowest aligned offset where
/// it overlaps no buffer already placed whose lifetime meets its own.
BufferPlan planBuffers(llvm::ArrayRef<BufferLifetime> buffers,
                       int64_t alignment);

} // namespace lathe

#endif // LATHE_COMPILER_BUFFERPLAN_H

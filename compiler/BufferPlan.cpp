//===- BufferPlan.cpp - placing buffers in one arena ----------------------===//

#include "compiler/BufferPlan.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

using namespace lathe;

BufferPlan lathe::planBuffers(llvm::ArrayRef<BufferLifetime> buffers,
                              int64_t alignment) {
  BufferPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  llvm::SmallVector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first (then earliest): big buffers take the low offsets and
  // small ones fill the gaps between them.
  llvm::stable_sort(order, [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes)
      return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });

  llvm::SmallVector<size_t> placed;
  for (size_t i : order) {
    const BufferLifetime &buffer = buffers[i];
    // The byte ranges of placed buffers alive with this one, by offset.
    llvm::SmallVector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed)
      if (buffers[j].first <= buffer.last && buffer.first <= buffers[j].last)
        busy.push_back({plan.offsets[j], plan.offsets[j] + buffers[j].bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + buffer.bytes <= begin)
        break;
      offset = std::max(offset, static_cast<int64_t>(
                                    llvm::alignTo(end, alignment)));
    }
    plan.offsets[i] = offset;
    plan.bytes = std::max(plan.bytes, offset + buffer.bytes);
    placed.push_back(i);
  }
  plan.bytes = llvm::alignTo(plan.bytes, alignment);
  return plan;
}

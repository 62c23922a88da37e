//===- KVCache.h - the latent KV cache and each row's length ---*- C++ -*-===//
//
// Layer l is a [max_batch, max_seq_len, width] array (docs/bundle-format.md,
// "Model, limits and KV cache"), reserved with MAP_NORESERVE so that only
// the positions a row has written take memory. The cache also keeps, per
// batch row, how many positions are cached: a call that writes the cache
// appends its tokens at those lengths, and one that would run a row past
// max_seq_len is refused before any kernel runs.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_KVCACHE_H
#define LATHE_RUNTIME_EXEC_KVCACHE_H

#include "runtime/exec/Memory.h"
#include "runtime/schema/bundle_generated.h"
#include "runtime/support/Status.h"

#include <cstdint>
#include <vector>

namespace lathe::rt {

class KVCache {
public:
  /// Reserves the layers `layout` describes (none when it is null), with
  /// `maxBatch` rows of at most `maxSeqLen` positions. `layout` must have
  /// passed validateBundle.
  static Expected<KVCache> create(const lathe::bundle::KVCacheLayout *layout,
                                  int64_t maxBatch, int64_t maxSeqLen);

  uint32_t numLayers() const { return uint32_t(layers.size()); }
  /// The base of layer `index`, 64-byte aligned.
  uint8_t *layer(uint32_t index) const { return layers[index]; }
  uint64_t layerBytes() const { return bytesPerLayer; }

  int64_t maxBatch() const { return rows; }
  int64_t maxSeqLen() const { return positions; }

  /// Positions cached in `row` (< maxBatch()).
  int64_t length(int64_t row) const { return lengths[size_t(row)]; }
  const std::vector<int64_t> &allLengths() const { return lengths; }

  /// Whether rows [0, batch) can each take `tokens` more positions; the
  /// error names the first row that cannot.
  Status checkAppend(int64_t batch, int64_t tokens) const;
  /// Adds `tokens` to the lengths of rows [0, batch); checkAppend first.
  void append(int64_t batch, int64_t tokens);

  /// Forgets every row's positions. The memory stays committed: its
  /// contents are never read before being written again.
  void reset();

private:
  MemoryRegion memory;
  std::vector<uint8_t *> layers;
  uint64_t bytesPerLayer = 0;
  int64_t rows = 0, positions = 0;
  std::vector<int64_t> lengths;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_KVCACHE_H

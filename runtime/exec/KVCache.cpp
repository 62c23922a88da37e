//===- KVCache.cpp - the latent KV cache and each row's length ------------===//

#include "runtime/exec/KVCache.h"

#include "runtime/bundle/ElementType.h"

#include <unistd.h>

using namespace lathe::rt;

Expected<KVCache> KVCache::create(const lathe::bundle::KVCacheLayout *layout,
                                  int64_t maxBatch, int64_t maxSeqLen) {
  KVCache cache;
  cache.rows = maxBatch;
  cache.positions = maxSeqLen;
  cache.lengths.assign(size_t(maxBatch), 0);
  if (!layout || layout->num_layers() == 0)
    return cache;

  int64_t dims[] = {maxBatch, maxSeqLen, int64_t(layout->width())};
  Expected<uint64_t> bytes = tensorBytes(*toDType(layout->dtype()), dims, 3);
  if (!bytes)
    return bytes.status().withContext("kv_cache: a layer");
  // Layers start on page boundaries: aligned for any kernel, and a layer's
  // pages are its own.
  uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  uint64_t stride = (*bytes + page - 1) / page * page;
  uint64_t total = 0;
  if (stride < *bytes ||
      __builtin_mul_overflow(stride, uint64_t(layout->num_layers()), &total))
    return Status::error("kv_cache: the layers' size overflows 64 bits");
  Expected<MemoryRegion> memory = MemoryRegion::reserve(total, "kv_cache");
  if (!memory)
    return memory.status();
  cache.memory = std::move(*memory);
  cache.bytesPerLayer = *bytes;
  for (uint32_t l = 0; l < layout->num_layers(); ++l)
    cache.layers.push_back(cache.memory.data() + l * stride);
  return cache;
}

Status KVCache::checkAppend(int64_t batch, int64_t tokens) const {
  if (batch > rows)
    return makeError("batch ", batch, " is more rows than the KV cache has (",
                     rows, ")");
  for (int64_t row = 0; row < batch; ++row)
    if (lengths[size_t(row)] > positions - tokens)
      return makeError("row ", row, " has ", lengths[size_t(row)],
                       " positions cached; ", tokens,
                       " more would pass max_seq_len ", positions);
  return Status::success();
}

void KVCache::append(int64_t batch, int64_t tokens) {
  for (int64_t row = 0; row < batch; ++row)
    lengths[size_t(row)] += tokens;
}

void KVCache::reset() { lengths.assign(lengths.size(), 0); }

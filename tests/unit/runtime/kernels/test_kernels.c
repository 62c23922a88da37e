/*===- test_kernels.c - hand-written CPU kernels for the runtime tests ---===//
 *
 * A stand-in for what targets/cpu generates: a few kernels with the CPU
 * kernel ABI (runtime/cpu/KernelABI.h), compiled by CMake into a shared
 * object whose bytes the tests embed in the bundles they build. Each
 * exercises one thing the runtime provides: buffers from every kind of
 * BufferRef, weight tables, scalars, 2-D and 3-D grids, the KV cache.
 * LATHE_TEST_ABI_VERSION builds a variant that claims another ABI version.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime/cpu/KernelABI.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef LATHE_TEST_ABI_VERSION
#define LATHE_TEST_ABI_VERSION LATHE_CPU_ABI_VERSION
#endif

#define EXPORT __attribute__((visibility("default")))

EXPORT const uint32_t lathe_cpu_abi_version = LATHE_TEST_ABI_VERSION;

/* out = in, n bytes, by libc's memcpy: the library then depends on libc,
 * which the test that a kernel symbol must be the library's own needs.
 * Buffers: in, out. Scalars: n. Grid: [1, 1, 1]. */
EXPORT void lt_copy(const LatheDispatch *d, int64_t x, int64_t y, int64_t z) {
  (void)x, (void)y, (void)z;
  memcpy(d->buffers[1], d->buffers[0], (size_t)d->scalars[0]);
}

/* out[i] = a[i] + b[i] for i < n; workgroup x does [4x, 4x + 4).
 * Buffers: a, b, out (f32). Scalars: n. Grid: [n ceildiv 4, 1, 1]. */
EXPORT void lt_add(const LatheDispatch *d, int64_t x, int64_t y, int64_t z) {
  (void)y, (void)z;
  const float *a = d->buffers[0], *b = d->buffers[1];
  float *out = d->buffers[2];
  int64_t n = d->scalars[0];
  for (int64_t i = 4 * x; i < 4 * x + 4 && i < n; ++i)
    out[i] = a[i] + b[i];
}

/* out[x] = sum over j < count of table[j][x].
 * Buffers: table (pointers to f32 arrays), out. Scalars: n, count.
 * Grid: [n, 1, 1]. */
EXPORT void lt_table_sum(const LatheDispatch *d, int64_t x, int64_t y,
                         int64_t z) {
  (void)y, (void)z;
  const float *const *table = d->buffers[0];
  float *out = d->buffers[1];
  float sum = 0;
  for (int64_t j = 0; j < d->scalars[1]; ++j)
    sum += table[j][x];
  out[x] = sum;
}

/* out[y, x] = in[y, x] * factor + y, over a 2-D grid.
 * Buffers: in, out (f32 [rows, cols]). Scalars: rows, cols, factor.
 * Grid: [cols, rows, 1]. */
EXPORT void lt_scale2d(const LatheDispatch *d, int64_t x, int64_t y,
                       int64_t z) {
  (void)z;
  const float *in = d->buffers[0];
  float *out = d->buffers[1];
  int64_t cols = d->scalars[1];
  out[y * cols + x] = in[y * cols + x] * (float)d->scalars[2] + (float)y;
}

/* counters[x + gx * (y + gy * z)] += 1, atomically: how often each
 * workgroup ran. Buffers: counters (i32 [gz, gy, gx]). Scalars: gx, gy,
 * gz. Grid: [gx, gy, gz]. */
EXPORT void lt_count(const LatheDispatch *d, int64_t x, int64_t y, int64_t z) {
  int32_t *counters = d->buffers[0];
  int64_t gx = d->grid[0], gy = d->grid[1];
  __atomic_fetch_add(&counters[x + gx * (y + gy * z)], 1, __ATOMIC_RELAXED);
}

/* A toy language model with a KV cache, one workgroup per row b:
 * caches (token, position) of each new token at its position, then scores
 * every id v of the vocabulary by -|v - next| where
 *   next = (3 * (sum of every token cached in the row) + last + 1) mod V
 * and last is the position of the row's last token. The next token thus
 * depends on everything the row has cached, so a wrong position, a lost
 * cache entry or a wrong row length changes the tokens.
 * Buffers: tokens, positions (i32 [B, T]), the cache layer (f32
 * [maxB, S, 2]), logits (f32 [B, V]). Scalars: B, T, S, V.
 * Grid: [B, 1, 1]. */
EXPORT void lt_toy_lm(const LatheDispatch *d, int64_t b, int64_t y, int64_t z) {
  (void)y, (void)z;
  const int32_t *tokens = d->buffers[0], *positions = d->buffers[1];
  float *cache = d->buffers[2], *logits = d->buffers[3];
  int64_t t = d->scalars[1], s = d->scalars[2], v = d->scalars[3];
  float *row = cache + b * s * 2;
  for (int64_t i = 0; i < t; ++i) {
    int32_t p = positions[b * t + i];
    row[2 * p] = (float)tokens[b * t + i];
    row[2 * p + 1] = (float)p;
  }
  int32_t last = positions[b * t + t - 1];
  int64_t sum = 0;
  for (int32_t p = 0; p <= last; ++p)
    sum += (int64_t)row[2 * p];
  int64_t next = (3 * sum + last + 1) % v;
  for (int64_t i = 0; i < v; ++i)
    logits[b * v + i] = -fabsf((float)(i - next));
}

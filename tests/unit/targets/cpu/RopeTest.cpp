//===- RopeTest.cpp - RoPE in place and MLA's cache write -----------------===//
//
// RoPE rotates adjacent pairs by the angle of lathe.rope_table's row for
// each token's position; the cache write stores rms_norm(c_kv) * norm and
// the roped k_pe at [row, position]. Rope dims of 16, 64 and ones that need
// a masked tail (8, 24); tokens of several rows at different positions.
// Everything a kernel must not write (other heads' dims, other cache
// positions) is checked unchanged.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace lathe;
using namespace lathe::cpu::test;

namespace {

/// lathe.rope_table with theta 10000: [rows, 2, dims], f32.
std::vector<float> ropeTable(int64_t rows, int64_t dims) {
  std::vector<float> table(rows * 2 * dims);
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t i = 0; i < dims / 2; ++i) {
      double angle = p * std::pow(10000.0, -2.0 * i / dims);
      float c = static_cast<float>(std::cos(angle)),
            s = static_cast<float>(std::sin(angle));
      table[(p * 2 + 0) * dims + 2 * i] = c;
      table[(p * 2 + 0) * dims + 2 * i + 1] = c;
      table[(p * 2 + 1) * dims + 2 * i] = -s;
      table[(p * 2 + 1) * dims + 2 * i + 1] = s;
    }
  return table;
}

/// Rotates x[0..dims) by row `p` of `table` into want/scale.
void rotate(const float *x, const std::vector<float> &table, int64_t dims,
            int64_t p, double *want, double *scale) {
  for (int64_t i = 0; i < dims; i += 2) {
    double c = table[(p * 2 + 0) * dims + i],
           s = table[(p * 2 + 1) * dims + i + 1];
    want[i] = x[i] * c - x[i + 1] * s;
    want[i + 1] = x[i] * s + x[i + 1] * c;
    scale[i] = scale[i + 1] = std::fabs(x[i]) + std::fabs(x[i + 1]);
  }
}

class RopeTest : public ::testing::Test {
protected:
  KernelHarness harness;
};

struct RopeCase {
  int64_t heads, headStride, offset, dims;
};

TEST_F(RopeTest, InPlace) {
  std::mt19937 rng(31);
  const int64_t tableRows = 300;
  for (RopeCase c : {RopeCase{4, 24, 8, 16}, RopeCase{2, 192, 128, 64},
                     RopeCase{3, 10, 2, 8}, RopeCase{1, 24, 0, 24}}) {
    const int64_t rowStride = c.heads * c.headStride + 3;
    std::unique_ptr<LoadedKernel> kernel = harness.load(RopeSpec{
        rowStride, c.heads, c.headStride, c.offset, c.dims, tableRows});
    ASSERT_TRUE(kernel);
    std::vector<float> table = ropeTable(tableRows, c.dims);
    for (int64_t m : {1, 3, 33}) {
      std::vector<float> x = randomFloats(rng, m * rowStride);
      std::vector<int32_t> positions(m);
      for (int32_t &p : positions)
        p = std::uniform_int_distribution<int>(0, tableRows - 1)(rng);
      positions[0] = 0;
      std::vector<float> before = x;
      kernel->run({x.data(), positions.data(), table.data()}, {m});
      std::vector<double> want(before.begin(), before.end());
      std::vector<double> scale(want.size(), 0.0);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t h = 0; h < c.heads; ++h) {
          int64_t at = r * rowStride + h * c.headStride + c.offset;
          rotate(&before[at], table, c.dims, positions[r], &want[at],
                 &scale[at]);
        }
      // Untouched elements have scale 0 and must be exact.
      expectClose(x, want, scale, 1e-6, 0.0,
                  "rope d" + std::to_string(c.dims) + " rows " +
                      std::to_string(m));
    }
  }
}

struct KVCase {
  int64_t rank, ropeDims;
  StoredType norm;
  int64_t rows, tokens; // M = rows * tokens
};

TEST_F(RopeTest, KVAppend) {
  std::mt19937 rng(32);
  const int64_t tableRows = 64, maxBatch = 4, maxSeqLen = 40;
  const double eps = 1e-6;
  for (KVCase c : {KVCase{32, 16, StoredType::F32, 3, 1},
                   KVCase{32, 16, StoredType::BF16, 2, 4},
                   KVCase{100, 8, StoredType::BF16, 4, 3},
                   KVCase{512, 64, StoredType::BF16, 1, 2}}) {
    mlir::Type normType =
        c.norm == StoredType::F32 ? harness.f32() : harness.bf16();
    std::unique_ptr<LoadedKernel> kernel = harness.load(KVAppendSpec{
        c.rank, c.ropeDims, tableRows, maxBatch, maxSeqLen, normType, eps});
    ASSERT_TRUE(kernel);
    const int64_t width = c.rank + c.ropeDims, m = c.rows * c.tokens;
    std::vector<float> table = ropeTable(tableRows, c.ropeDims);
    StoredMatrix norm = randomMatrix(rng, c.norm, 1, c.rank);
    std::vector<float> kv = randomFloats(rng, m * width, -3.0f, 3.0f);
    // Row b's tokens sit at consecutive positions from a start of its own.
    std::vector<int32_t> positions(m);
    for (int64_t b = 0; b < c.rows; ++b) {
      int start = std::uniform_int_distribution<int>(
          0, static_cast<int>(maxSeqLen - c.tokens))(rng);
      for (int64_t t = 0; t < c.tokens; ++t)
        positions[b * c.tokens + t] = start + t;
    }
    std::vector<float> cache = randomFloats(rng, maxBatch * maxSeqLen * width);
    std::vector<double> want(cache.begin(), cache.end());
    std::vector<double> scale(want.size(), 0.0);
    kernel->run(
        {kv.data(), norm.bytes.data(), positions.data(), table.data(),
         cache.data()},
        {m, c.tokens});
    for (int64_t i = 0; i < m; ++i) {
      int64_t b = i / c.tokens, p = positions[i];
      const float *row = &kv[i * width];
      double *dst = &want[(b * maxSeqLen + p) * width];
      double *dstScale = &scale[(b * maxSeqLen + p) * width];
      double sum = 0;
      for (int64_t j = 0; j < c.rank; ++j)
        sum += double(row[j]) * row[j];
      double rms = std::sqrt(sum / c.rank + eps);
      for (int64_t j = 0; j < c.rank; ++j) {
        dst[j] = row[j] / rms * norm.values[j];
        dstScale[j] = std::fabs(dst[j]) * 10;
      }
      rotate(row + c.rank, table, c.ropeDims, p, dst + c.rank,
             dstScale + c.rank);
    }
    expectClose(cache, want, scale, 1e-6, 0.0,
                "kv_append r" + std::to_string(c.rank));
  }
}

} // namespace

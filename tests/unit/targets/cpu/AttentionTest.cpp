//===- AttentionTest.cpp - MLA attention over the latent cache ------------===//
//
// MLA for every (head, token) against the absorbed form of REFERENCE.md
// step 4 in float64: tokens of several batch rows at different positions,
// so that blocks of positions end masked at every offset; one token per
// row (decode: the absorbed strategy, blocks of up to 4 tokens across
// rows) and several consecutive ones (causal prefill over the cache: the
// up-projected strategy where it costs less, which rows with a short chunk
// over a long cache do not: absorbed blocks within the row), including query
// tiles and position blocks with partial tails, rows whose chunk starts
// past position 0, and a row longer than the up-projected strategy's
// query chunk (4096 tokens); kv_b_proj in bf16, f32 and FP8 with partial
// blocks; ranks and v that are and are not multiples of 16. Every case
// runs under this CPU's description and an AVX-512 one.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace lathe;
using namespace lathe::cpu::test;

namespace {

struct MLACase {
  int64_t heads, nope, rope, v, rank;
  StoredType kvB;
  int64_t rows, tokens; // M = rows * tokens
  std::vector<int32_t> lastPositions; // per row: its last token's position
  int64_t maxSeqLen = 70;
};

/// "h2r32m4x1": heads, rank, rows x tokens, for test names and messages.
std::string caseName(const MLACase &c) {
  return "h" + std::to_string(c.heads) + "r" + std::to_string(c.rank) + "m" +
         std::to_string(c.rows) + "x" + std::to_string(c.tokens);
}
void PrintTo(const MLACase &c, std::ostream *os) { *os << caseName(c); }

class AttentionTest
    : public ::testing::TestWithParam<
          std::tuple<MLACase, std::optional<cpu::CpuDescription>>> {
protected:
  KernelHarness harness;
};

TEST_P(AttentionTest, MatchesReference) {
  const MLACase &c = std::get<0>(GetParam());
  const int64_t maxBatch = 6, maxSeqLen = c.maxSeqLen;
  const double scale = 1.0 / std::sqrt(double(c.nope + c.rope));
  WeightFormat format{c.kvB == StoredType::BF16  ? harness.bf16()
                      : c.kvB == StoredType::F32 ? harness.f32()
                                                 : harness.f8e4m3(),
                      std::nullopt};
  if (c.kvB == StoredType::F8E4M3)
    format.block = std::array<int64_t, 2>{128, 128};
  MLAAttentionSpec spec{c.heads,  c.nope,     c.rope, c.v, c.rank,
                        maxBatch, maxSeqLen, format, scale};
  std::unique_ptr<LoadedKernel> kernel =
      harness.load(spec, "kernel", std::get<1>(GetParam()));
  ASSERT_TRUE(kernel);

  std::mt19937 rng(41);
  const int64_t qkDim = c.nope + c.rope, width = c.rank + c.rope,
                m = c.rows * c.tokens;
  std::vector<float> q = randomFloats(rng, m * c.heads * qkDim);
  StoredMatrix kvB =
      randomMatrix(rng, c.kvB, c.heads * (c.nope + c.v), c.rank);
  std::vector<float> cache = randomFloats(rng, maxBatch * maxSeqLen * width);
  std::vector<int32_t> positions(m);
  for (int64_t b = 0; b < c.rows; ++b)
    for (int64_t t = 0; t < c.tokens; ++t)
      positions[b * c.tokens + t] =
          c.lastPositions[b] - static_cast<int32_t>(c.tokens - 1 - t);
  std::vector<float> out(m * c.heads * c.v, std::nanf(""));
  std::vector<void *> buffers = {q.data(), kvB.bytes.data()};
  if (c.kvB == StoredType::F8E4M3)
    buffers.push_back(kvB.scales.data());
  buffers.push_back(positions.data());
  buffers.push_back(cache.data());
  buffers.push_back(out.data());
  kernel->run(buffers, {m, c.tokens});

  std::vector<double> want(out.size()), bound(out.size());
  auto w = [&](int64_t row, int64_t col) {
    return kvB.values[row * c.rank + col];
  };
  for (int64_t i = 0; i < m; ++i) {
    const int64_t b = i / c.tokens, count = positions[i] + 1;
    for (int64_t h = 0; h < c.heads; ++h) {
      const float *qh = &q[(i * c.heads + h) * qkDim];
      const int64_t uk = h * (c.nope + c.v), uv = uk + c.nope;
      std::vector<double> qLat(c.rank, 0.0);
      for (int64_t n = 0; n < c.nope; ++n)
        for (int64_t r = 0; r < c.rank; ++r)
          qLat[r] += qh[n] * w(uk + n, r);
      std::vector<double> scores(count);
      double max = -INFINITY;
      for (int64_t s = 0; s < count; ++s) {
        const float *kv = &cache[(b * maxSeqLen + s) * width];
        double dot = 0;
        for (int64_t r = 0; r < c.rank; ++r)
          dot += qLat[r] * kv[r];
        for (int64_t r = 0; r < c.rope; ++r)
          dot += double(qh[c.nope + r]) * kv[c.rank + r];
        scores[s] = dot * scale;
        max = std::max(max, scores[s]);
      }
      double sum = 0;
      for (double &s : scores)
        sum += (s = std::exp(s - max));
      std::vector<double> oLat(c.rank, 0.0);
      for (int64_t s = 0; s < count; ++s)
        for (int64_t r = 0; r < c.rank; ++r)
          oLat[r] += scores[s] / sum * cache[(b * maxSeqLen + s) * width + r];
      for (int64_t j = 0; j < c.v; ++j) {
        double value = 0, magnitude = 0;
        for (int64_t r = 0; r < c.rank; ++r) {
          value += oLat[r] * w(uv + j, r);
          magnitude += std::fabs(oLat[r] * w(uv + j, r));
        }
        want[(i * c.heads + h) * c.v + j] = value;
        bound[(i * c.heads + h) * c.v + j] = magnitude;
      }
    }
  }
  expectClose(out, want, bound, 2e-5, 0.0, kernelSummary(spec));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AttentionTest,
    ::testing::Combine(
        ::testing::Values(
            // Decode: one token per row, positions across the 16-blocks.
            MLACase{2, 16, 8, 16, 32, StoredType::BF16, 4, 1, {0, 15, 16, 33}},
            MLACase{4, 32, 16, 32, 64, StoredType::F32, 3, 1, {69, 1, 47}},
            // Six rows: absorbed blocks of 4 tokens across rows, then 2.
            MLACase{
                2, 16, 8, 16, 32, StoredType::F32, 6, 1, {0, 7, 8, 5, 6, 69}},
            // Short chunks over a long cache stay absorbed: blocks of 4 and 2
            // tokens within each row.
            MLACase{2, 16, 8, 16, 32, StoredType::BF16, 2, 6, {69, 40}},
            // Prefill: consecutive tokens, each attending up to itself.
            MLACase{2, 16, 8, 16, 32, StoredType::BF16, 2, 5, {20, 4}},
            // rank and rope not multiples of 16.
            MLACase{3, 8, 8, 24, 40, StoredType::BF16, 2, 2, {17, 31}},
            // FP8 kv_b with partial 128x128 blocks (rows 2*(16+16), cols 160).
            MLACase{2, 16, 16, 16, 160, StoredType::F8E4M3, 2, 3, {9, 50}},
            // Prefill chunks, up-projected: 23 tokens (partial query tiles),
            // one row from position 0 and two over a cached prefix; position
            // blocks cut at the rows' ends and at the chunk's first position.
            MLACase{4, 16, 8, 16, 32, StoredType::BF16, 3, 23, {22, 40, 69}},
            // v = 24 and rank = 40: partial registers in every product.
            MLACase{3, 8, 8, 24, 40, StoredType::BF16, 2, 17, {16, 50}},
            // 16 heads, 8 a workgroup; f32 weights.
            MLACase{16, 8, 8, 8, 16, StoredType::F32, 2, 9, {8, 30}},
            MLACase{2, 16, 16, 16, 160, StoredType::F8E4M3, 1, 40, {39}},
            // One row of 4100 tokens: two query chunks, the cache up-projected
            // for each.
            MLACase{1, 8, 8, 8, 16, StoredType::F32, 1, 4100, {4099}, 4100}),
        ::testing::ValuesIn(descriptionsToTest())),
    [](const auto &info) {
      return caseName(std::get<0>(info.param)) + "_" +
             std::to_string(info.index) + "_" +
             describe(std::get<1>(info.param));
    });

} // namespace

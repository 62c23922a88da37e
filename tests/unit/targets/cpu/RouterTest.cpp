//===- RouterTest.cpp - MoE top-k routing and the pair permutation --------===//
//
// moe_topk against REFERENCE.md step 7 (tests/reference's `route`) in
// float64: sigmoid + correction bias + groups (sum of the top two), groups
// without a bias (max), softmax without groups, renormalization on and off,
// ties resolved to the lower index. Logits are multiples of 1/8, so ties
// are exact in both precisions and distinct scores stay far apart.
// moe_permute against a stable counting sort, empty experts included.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace lathe;
using namespace lathe::cpu::test;

namespace {

struct TopkCase {
  int64_t experts, topk, groups, topkGroups;
  bool sigmoid, renormalize, bias;
  double scaling;
};

/// "e64k6g8_sigmoid_bias", for test names and messages.
std::string caseName(const TopkCase &c) {
  return "e" + std::to_string(c.experts) + "k" + std::to_string(c.topk) + "g" +
         std::to_string(c.groups) + (c.sigmoid ? "_sigmoid" : "_softmax") +
         (c.bias ? "_bias" : "");
}
void PrintTo(const TopkCase &c, std::ostream *os) { *os << caseName(c); }

/// Indices of the k largest, largest first, ties to the lower index.
std::vector<int64_t> topIndices(const std::vector<double> &scores, int64_t k) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return scores[a] > scores[b];
  });
  order.resize(k);
  return order;
}

void route(const TopkCase &c, const float *logits, const float *bias,
           std::vector<int64_t> &ids, std::vector<double> &weights) {
  const int64_t e = c.experts;
  std::vector<double> orig(e);
  if (c.sigmoid) {
    for (int64_t i = 0; i < e; ++i)
      orig[i] = 1.0 / (1.0 + std::exp(-double(logits[i])));
  } else {
    double max = *std::max_element(logits, logits + e), sum = 0;
    for (int64_t i = 0; i < e; ++i)
      sum += (orig[i] = std::exp(logits[i] - max));
    for (double &o : orig)
      o /= sum;
  }
  std::vector<double> selection = orig;
  if (bias)
    for (int64_t i = 0; i < e; ++i)
      selection[i] += bias[i];
  if (c.groups > 1) {
    const int64_t size = e / c.groups;
    std::vector<double> groupScores(c.groups);
    for (int64_t g = 0; g < c.groups; ++g) {
      std::vector<double> members(selection.begin() + g * size,
                                  selection.begin() + (g + 1) * size);
      std::sort(members.rbegin(), members.rend());
      groupScores[g] = bias && size > 1 ? members[0] + members[1] : members[0];
    }
    std::vector<int64_t> kept = topIndices(groupScores, c.topkGroups);
    for (int64_t i = 0; i < e; ++i)
      if (std::find(kept.begin(), kept.end(), i / size) == kept.end())
        selection[i] = -INFINITY;
  }
  ids = topIndices(selection, c.topk);
  weights.resize(c.topk);
  double sum = 0;
  for (int64_t j = 0; j < c.topk; ++j)
    sum += (weights[j] = orig[ids[j]]);
  for (double &w : weights)
    w = (c.renormalize ? w / sum : w) * c.scaling;
}

class RouterTest : public ::testing::TestWithParam<TopkCase> {
protected:
  KernelHarness harness;
};

TEST_P(RouterTest, TopkMatchesReference) {
  const TopkCase &c = GetParam();
  MoETopkSpec spec{c.experts, c.topk,        c.groups,
                   c.topkGroups, c.sigmoid, c.renormalize,
                   c.bias ? std::optional<mlir::Type>(harness.f32())
                          : std::nullopt,
                   c.scaling};
  std::unique_ptr<LoadedKernel> kernel = harness.load(spec);
  ASSERT_TRUE(kernel);
  std::mt19937 rng(51);
  const int64_t m = 9;
  std::vector<float> logits(m * c.experts), bias(c.experts);
  std::uniform_int_distribution<int> eighths(-32, 32);
  for (float &l : logits)
    l = eighths(rng) / 8.0f;
  // Row 0: every logit equal, so the picks are the lowest indices (of the
  // lowest groups); row 1: pairs of equal logits.
  std::fill(logits.begin(), logits.begin() + c.experts, 0.5f);
  for (int64_t i = 0; i + 1 < c.experts; i += 2)
    logits[c.experts + i + 1] = logits[c.experts + i];
  for (float &b : bias)
    b = eighths(rng) / 64.0f;
  if (c.bias)
    std::fill(bias.begin(), bias.end(), 0.0f), bias[3] = 0.25f;

  std::vector<int32_t> ids(m * c.topk, -1);
  std::vector<float> weights(m * c.topk, std::nanf(""));
  std::vector<void *> buffers = {logits.data()};
  if (c.bias)
    buffers.push_back(bias.data());
  buffers.push_back(ids.data());
  buffers.push_back(weights.data());
  kernel->run(buffers, {m});

  std::vector<double> wantWeights;
  for (int64_t r = 0; r < m; ++r) {
    std::vector<int64_t> wantIds;
    std::vector<double> rowWeights;
    route(c, &logits[r * c.experts], c.bias ? bias.data() : nullptr, wantIds,
          rowWeights);
    for (int64_t j = 0; j < c.topk; ++j)
      EXPECT_EQ(ids[r * c.topk + j], wantIds[j])
          << kernelSummary(spec) << " row " << r << " pick " << j;
    wantWeights.insert(wantWeights.end(), rowWeights.begin(),
                       rowWeights.end());
  }
  expectClose(weights, wantWeights, 1e-5, 0.0, kernelSummary(spec));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RouterTest,
    ::testing::Values(
        // DeepSeek-V3's scheme at a small size: sigmoid, bias, groups.
        TopkCase{64, 6, 8, 3, true, true, true, 2.5},
        // Groups scored by their best expert (no bias).
        TopkCase{32, 4, 4, 2, true, false, false, 1.0},
        // DeepSeek-V2-Lite's scheme: softmax, no groups, no renormalization.
        TopkCase{16, 6, 1, 1, false, false, false, 1.0},
        // Softmax renormalized, one expert per token.
        TopkCase{8, 1, 1, 1, false, true, false, 1.5},
        // Groups of one expert.
        TopkCase{8, 3, 8, 4, true, true, true, 1.0}),
    [](const auto &info) { return caseName(info.param); });

class PermuteTest : public ::testing::Test {
protected:
  KernelHarness harness;
};

TEST_F(PermuteTest, StableCountingSort) {
  const int64_t experts = 10;
  std::unique_ptr<LoadedKernel> kernel =
      harness.load(MoEPermuteSpec{experts});
  ASSERT_TRUE(kernel);
  std::mt19937 rng(52);
  for (int64_t pairs : {0, 1, 7, 100}) {
    std::vector<int32_t> ids(pairs);
    // Experts 0, 4 and 9 get nothing.
    for (int32_t &id : ids) {
      do
        id = std::uniform_int_distribution<int>(0, experts - 1)(rng);
      while (id == 0 || id == 4 || id == 9);
    }
    std::vector<int32_t> offsets(experts + 1, -7), order(pairs + 1, -7);
    kernel->run({ids.data(), offsets.data(), order.data()}, {pairs});
    std::vector<int32_t> wantOffsets(experts + 1, 0), wantOrder;
    for (int64_t e = 0; e < experts; ++e) {
      for (int64_t p = 0; p < pairs; ++p)
        if (ids[p] == e)
          wantOrder.push_back(static_cast<int32_t>(p));
      wantOffsets[e + 1] = static_cast<int32_t>(wantOrder.size());
    }
    wantOrder.push_back(-7); // one past the end stays untouched
    EXPECT_EQ(offsets, wantOffsets) << "pairs " << pairs;
    EXPECT_EQ(order, wantOrder) << "pairs " << pairs;
  }
}

} // namespace

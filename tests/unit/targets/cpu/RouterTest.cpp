//===- RouterTest.cpp - MoE routing and the pair permutation --------------===//
//
// moe_topk against REFERENCE.md step 7 (tests/reference's `route`) in
// float64: sigmoid + correction bias + groups (sum of the top two), groups
// without a bias (max), softmax without groups, renormalization on and off,
// ties resolved to the lower index. Logits are multiples of 1/8, so ties
// are exact in both precisions and distinct scores stay far apart.
// moe_router (the gate GEMV, then the same selection) against the same
// reference on float64 logits of the stored gate, bf16, f16 and f32, for
// the moe_topk cases and DeepSeek-V3's router, over hidden sizes with and
// without a masked tail, under this CPU's description and an AVX-512 one.
// Its logits carry float32's error, so each token's x is redrawn until the
// reference's picks (their order, the first expert left out, the groups
// at the cut) are apart by well more than that error; one batch has an
// expert that every token picks first.
// moe_permute against a stable counting sort, empty experts included.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
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

const std::vector<TopkCase> kTopkCases = {
    // DeepSeek-V3's scheme at a small size: sigmoid, bias, groups.
    TopkCase{64, 6, 8, 3, true, true, true, 2.5},
    // Groups scored by their best expert (no bias).
    TopkCase{32, 4, 4, 2, true, false, false, 1.0},
    // DeepSeek-V2-Lite's scheme: softmax, no groups, no renormalization.
    TopkCase{16, 6, 1, 1, false, false, false, 1.0},
    // Softmax renormalized, one expert per token.
    TopkCase{8, 1, 1, 1, false, true, false, 1.5},
    // Groups of one expert.
    TopkCase{8, 3, 8, 4, true, true, true, 1.0}};

MoETopkSpec topkSpec(const TopkCase &c, KernelHarness &harness) {
  return {c.experts,
          c.topk,
          c.groups,
          c.topkGroups,
          c.sigmoid,
          c.renormalize,
          c.bias ? std::optional<mlir::Type>(harness.f32()) : std::nullopt,
          c.scaling};
}

/// The reference's routing of one token.
struct Routing {
  std::vector<int64_t> ids;
  std::vector<double> weights;
  /// How close the choice is to another: the smallest gap between
  /// consecutive choice scores from the first pick to the first expert
  /// left out, and between the group scores at the topk_group cut.
  double margin = INFINITY;
};

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

/// values[order[i]] - values[order[i + 1]] for i < count, over finite
/// values only.
double smallestGap(const std::vector<double> &values, int64_t count) {
  std::vector<int64_t> order =
      topIndices(values, std::min<int64_t>(count + 1, values.size()));
  double gap = INFINITY;
  for (size_t i = 0; i + 1 < order.size(); ++i)
    if (std::isfinite(values[order[i + 1]]))
      gap = std::min(gap, values[order[i]] - values[order[i + 1]]);
  return gap;
}

Routing route(const TopkCase &c, const double *logits, const float *bias) {
  const int64_t e = c.experts;
  std::vector<double> orig(e);
  if (c.sigmoid) {
    for (int64_t i = 0; i < e; ++i)
      orig[i] = 1.0 / (1.0 + std::exp(-logits[i]));
  } else {
    double max = *std::max_element(logits, logits + e), sum = 0;
    for (int64_t i = 0; i < e; ++i)
      sum += (orig[i] = std::exp(logits[i] - max));
    for (double &o : orig)
      o /= sum;
  }
  Routing r;
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
    std::vector<double> atCut = groupScores;
    std::sort(atCut.rbegin(), atCut.rend());
    if (c.topkGroups < c.groups)
      r.margin = atCut[c.topkGroups - 1] - atCut[c.topkGroups];
    for (int64_t i = 0; i < e; ++i)
      if (std::find(kept.begin(), kept.end(), i / size) == kept.end())
        selection[i] = -INFINITY;
  }
  r.margin = std::min(r.margin, smallestGap(selection, c.topk));
  r.ids = topIndices(selection, c.topk);
  r.weights.resize(c.topk);
  double sum = 0;
  for (int64_t j = 0; j < c.topk; ++j)
    sum += (r.weights[j] = orig[r.ids[j]]);
  for (double &w : r.weights)
    w = (c.renormalize ? w / sum : w) * c.scaling;
  return r;
}

/// Checks every token's picks against `want` and returns the weights it
/// wants, token by token.
std::vector<double> expectSameIds(const TopkCase &c,
                                  const std::vector<int32_t> &ids,
                                  const std::vector<Routing> &want,
                                  const std::string &what) {
  std::vector<double> weights;
  for (size_t r = 0; r < want.size(); ++r) {
    for (int64_t j = 0; j < c.topk; ++j)
      EXPECT_EQ(ids[r * c.topk + j], want[r].ids[j])
          << what << " token " << r << " pick " << j;
    weights.insert(weights.end(), want[r].weights.begin(),
                   want[r].weights.end());
  }
  return weights;
}

/// Correction biases in [-1/2, 1/2], multiples of 1/64.
std::vector<float> randomBias(std::mt19937 &rng, int64_t experts) {
  std::vector<float> bias(experts);
  std::uniform_int_distribution<int> eighths(-32, 32);
  for (float &b : bias)
    b = eighths(rng) / 64.0f;
  return bias;
}

class RouterTest : public ::testing::TestWithParam<TopkCase> {
protected:
  KernelHarness harness;
};

TEST_P(RouterTest, TopkMatchesReference) {
  const TopkCase &c = GetParam();
  MoETopkSpec spec = topkSpec(c, harness);
  std::unique_ptr<LoadedKernel> kernel = harness.load(spec);
  ASSERT_TRUE(kernel);
  std::mt19937 rng(51);
  const int64_t m = 9;
  std::vector<float> logits(m * c.experts);
  std::uniform_int_distribution<int> eighths(-32, 32);
  for (float &l : logits)
    l = eighths(rng) / 8.0f;
  // Row 0: every logit equal, so the picks are the lowest indices (of the
  // lowest groups); row 1: pairs of equal logits.
  std::fill(logits.begin(), logits.begin() + c.experts, 0.5f);
  for (int64_t i = 0; i + 1 < c.experts; i += 2)
    logits[c.experts + i + 1] = logits[c.experts + i];
  std::vector<float> bias = randomBias(rng, c.experts);
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

  std::vector<Routing> want;
  for (int64_t r = 0; r < m; ++r) {
    std::vector<double> row(logits.begin() + r * c.experts,
                            logits.begin() + (r + 1) * c.experts);
    want.push_back(route(c, row.data(), c.bias ? bias.data() : nullptr));
  }
  std::vector<double> wantWeights =
      expectSameIds(c, ids, want, kernelSummary(spec));
  expectClose(weights, wantWeights, 1e-5, 0.0, kernelSummary(spec));
}

INSTANTIATE_TEST_SUITE_P(Cases, RouterTest, ::testing::ValuesIn(kTopkCases),
                         [](const auto &info) { return caseName(info.param); });

//===----------------------------------------------------------------------===//
// moe_router
//===----------------------------------------------------------------------===//

struct RouterCase {
  TopkCase topk;
  int64_t hidden;
  StoredType gate;
};

/// "e256k8g8_sigmoid_bias_h200_bf16".
std::string caseName(const RouterCase &c) {
  const char *gate = c.gate == StoredType::BF16  ? "bf16"
                     : c.gate == StoredType::F16 ? "f16"
                                                 : "f32";
  return caseName(c.topk) + "_h" + std::to_string(c.hidden) + "_" + gate;
}
void PrintTo(const RouterCase &c, std::ostream *os) { *os << caseName(c); }

/// The moe_topk cases and DeepSeek-V3's router (256 experts in 8 groups, 4
/// of them kept, top-8), over hidden sizes with a masked tail of both lane
/// counts (203, 100), of 16 lanes only (200), of no full register (7) and
/// without one (64); gates in bf16, f16 and f32.
std::vector<RouterCase> routerCases() {
  const std::vector<std::pair<TopkCase, int64_t>> shapes = {
      {kTopkCases[0], 203},
      {kTopkCases[1], 64},
      {kTopkCases[2], 7},
      {kTopkCases[3], 100},
      {kTopkCases[4], 200},
      {TopkCase{256, 8, 8, 4, true, true, true, 2.5}, 200}};
  std::vector<RouterCase> cases;
  for (const auto &[topk, hidden] : shapes)
    for (StoredType gate : {StoredType::BF16, StoredType::F16, StoredType::F32})
      cases.push_back({topk, hidden, gate});
  return cases;
}

/// Picks and group cuts the reference decides by less are redrawn: the
/// kernel's float32 logits (sums of |x g| up to about 11) are off by about
/// 1e-6.
constexpr double kMargin = 1e-4;

class MoERouterTest
    : public ::testing::TestWithParam<
          std::tuple<RouterCase, std::optional<cpu::CpuDescription>>> {
protected:
  const TopkCase &topk() { return std::get<0>(GetParam()).topk; }
  int64_t hidden() { return std::get<0>(GetParam()).hidden; }
  StoredType gateType() { return std::get<0>(GetParam()).gate; }

  MoERouterSpec spec() {
    mlir::Type stored = gateType() == StoredType::BF16  ? harness.bf16()
                        : gateType() == StoredType::F16 ? harness.f16()
                                                        : harness.f32();
    return {hidden(), stored, topkSpec(topk(), harness)};
  }

  /// Routes `tokens` tokens, each x drawn by `drawX` until the reference
  /// decides its routing by kMargin; checks the ids and returns the
  /// kernel's weights and the reference's routings.
  std::vector<float>
  routeTokens(int64_t tokens, StoredMatrix &gate, std::vector<float> &bias,
              const std::function<std::vector<float>()> &drawX,
              std::vector<Routing> &want) {
    MoERouterSpec s = spec();
    std::unique_ptr<LoadedKernel> kernel =
        harness.load(s, "kernel", std::get<1>(GetParam()));
    if (!kernel)
      return {};
    const TopkCase &c = topk();
    std::vector<float> x;
    for (int64_t t = 0; t < tokens; ++t) {
      std::vector<float> row;
      Routing r;
      int attempts = 0;
      do {
        row = drawX();
        std::vector<double> logits(c.experts);
        for (int64_t e = 0; e < c.experts; ++e)
          for (int64_t k = 0; k < hidden(); ++k)
            logits[e] += double(row[k]) * gate.values[e * hidden() + k];
        r = route(c, logits.data(), c.bias ? bias.data() : nullptr);
      } while (r.margin < kMargin && ++attempts < 100);
      EXPECT_GE(r.margin, kMargin) << "no decided token in 100 draws";
      x.insert(x.end(), row.begin(), row.end());
      want.push_back(r);
    }
    std::vector<int32_t> ids(tokens * c.topk, -1);
    std::vector<float> weights(tokens * c.topk, std::nanf(""));
    std::vector<void *> buffers = {x.data(), gate.bytes.data()};
    if (c.bias)
      buffers.push_back(bias.data());
    buffers.push_back(ids.data());
    buffers.push_back(weights.data());
    kernel->run(buffers, {tokens});
    expectSameIds(c, ids, want, kernelSummary(s));
    return weights;
  }

  /// Logits of about unit size: x in [-a, a] against gate values in
  /// [-1, 1] sum to a standard deviation of a * sqrt(hidden) / 3.
  float xRange() { return 3.0f / std::sqrt(float(hidden())); }

  KernelHarness harness;
};

TEST_P(MoERouterTest, MatchesReference) {
  const TopkCase &c = topk();
  std::mt19937 rng(53);
  StoredMatrix gate = randomMatrix(rng, gateType(), c.experts, hidden());
  std::vector<float> bias = randomBias(rng, c.experts);
  std::vector<Routing> want;
  std::vector<float> weights = routeTokens(
      9, gate, bias,
      [&] { return randomFloats(rng, hidden(), -xRange(), xRange()); }, want);
  ASSERT_FALSE(weights.empty());
  std::vector<double> wantWeights;
  for (const Routing &r : want)
    wantWeights.insert(wantWeights.end(), r.weights.begin(), r.weights.end());
  expectClose(weights, wantWeights, 1e-5, 0.0, kernelSummary(spec()));
}

TEST_P(MoERouterTest, OneExpertTakesEveryToken) {
  // Expert `dominant`'s gate row is all ones and x is positive, so its
  // logit (about 3 sqrt(hidden)) and its bias lead every token's choice;
  // with top-1 every other expert receives no token.
  const TopkCase &c = topk();
  const int64_t dominant = c.experts - 3;
  std::mt19937 rng(54);
  StoredMatrix gate = randomMatrix(rng, gateType(), c.experts, hidden());
  const StoredType type = gateType();
  const float one = 1.0f;
  const uint16_t oneHalf = type == StoredType::BF16 ? toBF16(one) : toF16(one);
  const void *stored = type == StoredType::F32
                           ? static_cast<const void *>(&one)
                           : static_cast<const void *>(&oneHalf);
  const size_t elementBytes = gate.bytes.size() / gate.values.size();
  for (int64_t k = dominant * hidden(); k < (dominant + 1) * hidden(); ++k) {
    std::memcpy(&gate.bytes[k * elementBytes], stored, elementBytes);
    gate.values[k] = 1.0;
  }
  std::vector<float> bias = randomBias(rng, c.experts);
  bias[dominant] = 1.0f;
  const int64_t tokens = 6;
  std::vector<Routing> want;
  std::vector<float> weights = routeTokens(
      tokens, gate, bias,
      [&] {
        return randomFloats(rng, hidden(), 0.5f * xRange(), 1.5f * xRange());
      },
      want);
  ASSERT_FALSE(weights.empty());
  // The others' softmax weights are as small as e^-40, each off by its
  // logit's error: bounded relative to the token's largest weight.
  std::vector<double> wantWeights, scale;
  for (const Routing &r : want) {
    EXPECT_EQ(r.ids[0], dominant);
    double largest = *std::max_element(r.weights.begin(), r.weights.end());
    wantWeights.insert(wantWeights.end(), r.weights.begin(), r.weights.end());
    scale.insert(scale.end(), c.topk, largest);
  }
  expectClose(weights, wantWeights, scale, 1e-5, 0.0, kernelSummary(spec()));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MoERouterTest,
    ::testing::Combine(::testing::ValuesIn(routerCases()),
                       ::testing::ValuesIn(descriptionsToTest())),
    [](const auto &info) {
      return caseName(std::get<0>(info.param)) + "_" +
             describe(std::get<1>(info.param));
    });

//===----------------------------------------------------------------------===//
// moe_permute
//===----------------------------------------------------------------------===//

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

//===- GemmTest.cpp - the CPU gemm kernels against a float64 reference ----===//
//
// y = x · Wᵀ with W as stored (f32, f16, bf16, FP8 e4m3 with 128x128 block
// scales, partial edge blocks included), over row counts that exercise the
// MR-row micro-kernel, the r-row one of every leftover r (2 <= r < MR, for
// MR = 6 and 8) and the 1-row one, and dims that are not multiples of 16;
// SwiGLU; grouped rows (MoE experts) with empty experts, xRowDiv = topk and
// per-row weights; scattered rows (the experts' down projection added into
// token order) with and without init, topk 2 and 3, partial column tiles,
// every pair on one expert, and the same bits whatever the order and the
// threads the workgroups run on. Errors are bounded relative to
// sum |x_k w_k|, the size of what float32 accumulation can lose.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <thread>

using namespace lathe;
using namespace lathe::cpu::test;

namespace {

constexpr double kTolerance = 1e-5;

double silu(double x) { return x / (1.0 + std::exp(-x)); }

/// Runs the grid's workgroups as the runtime may: on `threads` threads at
/// once, each taking every threads-th workgroup from the last.
void runConcurrently(const LoadedKernel &kernel,
                     const std::vector<void *> &buffers,
                     const std::vector<int64_t> &scalars, int64_t threads) {
  std::array<int64_t, 3> counts = kernel.gridFor(scalars);
  LatheDispatch dispatch{
      buffers.data(), scalars.data(), {counts[0], counts[1], counts[2]}};
  const int64_t total = counts[0] * counts[1] * counts[2];
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int64_t i = total - 1 - t; i >= 0; i -= threads)
        kernel.entry()(&dispatch, i % counts[0], i / counts[0] % counts[1],
                       i / (counts[0] * counts[1]));
    });
  for (std::thread &thread : pool)
    thread.join();
}

/// Each case runs under every description of descriptionsToTest(): the
/// blocking of this CPU and of an AVX-512 one.
class GemmTest
    : public ::testing::TestWithParam<std::optional<cpu::CpuDescription>> {
protected:
  WeightFormat format(StoredType type) {
    switch (type) {
    case StoredType::F32:
      return {harness.f32(), std::nullopt};
    case StoredType::F16:
      return {harness.f16(), std::nullopt};
    case StoredType::BF16:
      return {harness.bf16(), std::nullopt};
    case StoredType::F8E4M3:
      return {harness.f8e4m3(), std::array<int64_t, 2>{128, 128}};
    }
    return {};
  }

  /// One output of x_row · w_rowᵀ and its magnitude sum |x w|.
  static std::pair<double, double> dot(const float *x, const StoredMatrix &w,
                                       int64_t row) {
    double sum = 0, magnitude = 0;
    for (int64_t c = 0; c < w.cols; ++c) {
      double term = x[c] * w.values[row * w.cols + c];
      sum += term;
      magnitude += std::fabs(term);
    }
    return {sum, magnitude};
  }

  /// y[row] for x_row: plain, or silu(g) * u; with the error scale.
  static void output(const float *x, const StoredMatrix &w,
                     const StoredMatrix *up, int64_t n, double factor,
                     double *want, double *scale) {
    for (int64_t j = 0; j < n; ++j) {
      auto [g, gMag] = dot(x, w, j);
      if (!up) {
        want[j] = g * factor;
        scale[j] = gMag * std::fabs(factor);
        continue;
      }
      auto [u, uMag] = dot(x, *up, j);
      want[j] = silu(g) * u * factor;
      // d/dg silu(g) is at most 1.1 in magnitude.
      scale[j] = (1.1 * gMag * std::fabs(u) + std::fabs(silu(g)) * uMag) *
                 std::fabs(factor);
    }
  }

  void pushWeight(std::vector<void *> &buffers, StoredMatrix &w) {
    buffers.push_back(w.bytes.data());
    if (!w.scales.empty())
      buffers.push_back(w.scales.data());
  }

  void runDirect(int64_t n, int64_t k, StoredType type, bool swiglu,
                 const std::vector<int64_t> &rowCounts, unsigned seed) {
    GemmSpec spec{n, k, format(type)};
    spec.swiglu = swiglu;
    std::unique_ptr<LoadedKernel> kernel =
        harness.load(spec, "kernel", GetParam());
    ASSERT_TRUE(kernel);
    std::mt19937 rng(seed);
    StoredMatrix w = randomMatrix(rng, type, n, k);
    StoredMatrix up = randomMatrix(rng, type, n, k);
    for (int64_t m : rowCounts) {
      std::vector<float> x = randomFloats(rng, m * k);
      std::vector<float> y(m * n, std::nanf(""));
      std::vector<void *> buffers = {x.data()};
      pushWeight(buffers, w);
      if (swiglu)
        pushWeight(buffers, up);
      buffers.push_back(y.data());
      kernel->run(buffers, {m});
      std::vector<double> want(m * n), scale(m * n);
      for (int64_t r = 0; r < m; ++r)
        output(&x[r * k], w, swiglu ? &up : nullptr, n, 1.0, &want[r * n],
               &scale[r * n]);
      expectClose(y, want, scale, kTolerance, 1e-30,
                  kernelSummary(spec) + " rows " + std::to_string(m));
    }
  }

  /// Tokens route to `topk` experts each (some experts get nothing); pairs
  /// are grouped by expert with a stable counting sort, as moe_permute does.
  void runGrouped(int64_t n, int64_t k, StoredType type, bool swiglu,
                  int64_t experts, int64_t topk, bool rowScale,
                  int64_t tokens, unsigned seed) {
    GemmSpec spec{n, k, format(type)};
    spec.swiglu = swiglu;
    spec.grouped = true;
    spec.experts = experts;
    spec.xRowDiv = topk;
    spec.rowScale = rowScale;
    std::unique_ptr<LoadedKernel> kernel =
        harness.load(spec, "kernel", GetParam());
    ASSERT_TRUE(kernel);
    std::mt19937 rng(seed);
    std::vector<StoredMatrix> w, up;
    for (int64_t e = 0; e < experts; ++e) {
      w.push_back(randomMatrix(rng, type, n, k));
      up.push_back(randomMatrix(rng, type, n, k));
    }
    const int64_t pairs = tokens * topk;
    // Experts 1 and the last are never chosen: empty segments.
    std::vector<int32_t> ids(pairs);
    std::uniform_int_distribution<int> pick(0, experts - 1);
    for (int32_t &id : ids) {
      do
        id = pick(rng);
      while (id == 1 || id == experts - 1);
    }
    std::vector<int32_t> offsets(experts + 1, 0), order(pairs);
    for (int32_t id : ids)
      ++offsets[id + 1];
    for (int64_t e = 0; e < experts; ++e)
      offsets[e + 1] += offsets[e];
    std::vector<int32_t> cursor(offsets.begin(), offsets.end() - 1);
    for (int64_t p = 0; p < pairs; ++p)
      order[cursor[ids[p]]++] = static_cast<int32_t>(p);
    std::vector<float> rowWeights = randomFloats(rng, pairs, 0.1f, 2.0f);
    std::vector<float> x = randomFloats(rng, tokens * k);
    std::vector<float> y(pairs * n, std::nanf(""));

    auto table = [&](std::vector<StoredMatrix> &ws, bool scales) {
      std::vector<void *> pointers;
      for (StoredMatrix &m : ws)
        pointers.push_back(scales ? static_cast<void *>(m.scales.data())
                                  : static_cast<void *>(m.bytes.data()));
      return pointers;
    };
    std::vector<void *> wTable = table(w, false), wScales = table(w, true),
                        upTable = table(up, false), upScales = table(up, true);
    const bool fp8 = type == StoredType::F8E4M3;
    std::vector<void *> buffers = {x.data(), wTable.data()};
    if (fp8)
      buffers.push_back(wScales.data());
    if (swiglu) {
      buffers.push_back(upTable.data());
      if (fp8)
        buffers.push_back(upScales.data());
    }
    buffers.push_back(offsets.data());
    buffers.push_back(order.data());
    if (rowScale)
      buffers.push_back(rowWeights.data());
    buffers.push_back(y.data());
    kernel->run(buffers, {tokens, pairs});

    std::vector<double> want(pairs * n), scale(pairs * n);
    for (int64_t p = 0; p < pairs; ++p)
      output(&x[(p / topk) * k], w[ids[p]], swiglu ? &up[ids[p]] : nullptr, n,
             rowScale ? rowWeights[p] : 1.0, &want[p * n], &scale[p * n]);
    expectClose(y, want, scale, kTolerance, 1e-30, kernelSummary(spec));
  }

  /// The down projection: `tokens` tokens, each on `topk` distinct experts
  /// (never 1 nor the last: empty segments), or with `oneExpert` all on
  /// expert 2, twice per token when topk is 2; rows of x are the pairs.
  void runScatter(int64_t n, int64_t k, StoredType type, int64_t experts,
                  int64_t topk, int64_t tokens, bool init, bool oneExpert,
                  unsigned seed) {
    GemmSpec spec{n, k, format(type)};
    spec.grouped = true;
    spec.experts = experts;
    spec.rowScale = true;
    spec.scatterAdd = true;
    spec.yRowDiv = topk;
    spec.init = init;
    std::unique_ptr<LoadedKernel> kernel =
        harness.load(spec, "kernel", GetParam());
    ASSERT_TRUE(kernel);
    std::mt19937 rng(seed);
    std::vector<StoredMatrix> w;
    for (int64_t e = 0; e < experts; ++e)
      w.push_back(randomMatrix(rng, type, n, k));
    const int64_t pairs = tokens * topk;
    std::vector<int32_t> ids(pairs, 2);
    std::vector<int32_t> eligible;
    for (int32_t e = 0; e < experts; ++e)
      if (e != 1 && e != experts - 1)
        eligible.push_back(e);
    for (int64_t t = 0; t < tokens && !oneExpert; ++t) {
      std::shuffle(eligible.begin(), eligible.end(), rng);
      std::copy_n(eligible.begin(), topk, ids.begin() + t * topk);
    }
    std::vector<int32_t> offsets(experts + 1, 0), order(pairs);
    for (int32_t id : ids)
      ++offsets[id + 1];
    std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
    std::vector<int32_t> cursor(offsets.begin(), offsets.end() - 1);
    for (int64_t p = 0; p < pairs; ++p)
      order[cursor[ids[p]]++] = static_cast<int32_t>(p);
    std::vector<float> rowWeights = randomFloats(rng, pairs, 0.1f, 2.0f);
    std::vector<float> x = randomFloats(rng, pairs * k);
    std::vector<float> yInit = randomFloats(rng, tokens * n);

    std::vector<void *> wTable, wScales;
    for (StoredMatrix &m : w) {
      wTable.push_back(m.bytes.data());
      wScales.push_back(m.scales.data());
    }
    std::vector<float> y(tokens * n, std::nanf("")), yThreaded = y;
    std::vector<void *> buffers = {x.data(), wTable.data()};
    if (type == StoredType::F8E4M3)
      buffers.push_back(wScales.data());
    buffers.insert(buffers.end(),
                   {offsets.data(), order.data(), rowWeights.data()});
    if (init)
      buffers.push_back(yInit.data());
    buffers.push_back(y.data());
    kernel->run(buffers, {pairs, pairs});
    buffers.back() = yThreaded.data();
    runConcurrently(*kernel, buffers, {pairs, pairs}, 4);

    std::vector<double> want(tokens * n, 0.0), scale(tokens * n, 0.0);
    if (init)
      for (int64_t i = 0; i < tokens * n; ++i)
        scale[i] = std::fabs(want[i] = yInit[i]);
    std::vector<double> term(n), termScale(n);
    for (int64_t p = 0; p < pairs; ++p) {
      output(&x[p * k], w[ids[p]], nullptr, n, rowWeights[p], term.data(),
             termScale.data());
      for (int64_t j = 0; j < n; ++j) {
        want[(p / topk) * n + j] += term[j];
        scale[(p / topk) * n + j] += termScale[j];
      }
    }
    expectClose(y, want, scale, kTolerance, 1e-30, kernelSummary(spec));
    EXPECT_EQ(std::memcmp(y.data(), yThreaded.data(), y.size() * sizeof(float)),
              0)
        << kernelSummary(spec) << ": other bits on 4 threads";
  }

  KernelHarness harness;
};

const std::vector<int64_t> kRowCounts = {1, 2, 3, 4, 5, 6, 7, 33, 64};

TEST_P(GemmTest, F32) { runDirect(40, 64, StoredType::F32, false, kRowCounts, 1); }

TEST_P(GemmTest, F16) { runDirect(72, 96, StoredType::F16, false, kRowCounts, 2); }

TEST_P(GemmTest, BF16) {
  runDirect(128, 256, StoredType::BF16, false, kRowCounts, 3);
}

// n and k not multiples of 16 (nor of the micro-kernel's column counts).
TEST_P(GemmTest, BF16Tails) {
  runDirect(37, 100, StoredType::BF16, false, kRowCounts, 4);
  runDirect(3, 7, StoredType::BF16, false, {1, 2, 5}, 5);
}

// Several column tiles of 64 and a long k.
TEST_P(GemmTest, BF16Wide) {
  runDirect(300, 1000, StoredType::BF16, false, {1, 4, 33}, 6);
}

// 130 x 300: the last row and column blocks of the scales are partial.
TEST_P(GemmTest, FP8BlockScales) {
  runDirect(130, 300, StoredType::F8E4M3, false, kRowCounts, 7);
}

TEST_P(GemmTest, SwiGLU) {
  runDirect(48, 80, StoredType::BF16, true, kRowCounts, 8);
  runDirect(21, 130, StoredType::F8E4M3, true, {1, 6}, 9);
}

TEST_P(GemmTest, Grouped) {
  runGrouped(40, 64, StoredType::BF16, false, 6, 1, false, 9, 10);
}

TEST_P(GemmTest, GroupedTopkRowScale) {
  runGrouped(37, 100, StoredType::BF16, false, 8, 3, true, 11, 11);
}

TEST_P(GemmTest, GroupedSwiGLUFP8) {
  runGrouped(50, 140, StoredType::F8E4M3, true, 5, 2, false, 13, 12);
}

TEST_P(GemmTest, GroupedSwiGLUScaled) {
  runGrouped(24, 48, StoredType::F32, true, 4, 2, true, 6, 13);
}

// n = 100: a partial second column tile; eight experts, two empty.
TEST_P(GemmTest, ScatterAddBF16) {
  runScatter(100, 72, StoredType::BF16, 8, 2, 13, false, false, 14);
  runScatter(100, 72, StoredType::BF16, 8, 3, 11, true, false, 15);
}

// 130 x 300 weights: partial FP8 blocks in both dims, and a partial third
// column tile.
TEST_P(GemmTest, ScatterAddFP8) {
  runScatter(130, 300, StoredType::F8E4M3, 5, 3, 9, true, false, 16);
  runScatter(130, 300, StoredType::F8E4M3, 6, 2, 7, false, false, 17);
}

// Every pair on expert 2, each token twice: a token's two rows meet in
// one micro-kernel, and both add.
TEST_P(GemmTest, ScatterAddOneExpert) {
  runScatter(70, 40, StoredType::BF16, 4, 2, 10, true, true, 18);
  runScatter(70, 40, StoredType::F32, 4, 1, 9, false, true, 19);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmTest, ::testing::ValuesIn(descriptionsToTest()),
    [](const auto &info) { return describe(info.param); });

} // namespace

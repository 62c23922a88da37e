//===- RowKernelsTest.cpp - embedding, rms_norm, add, gather, combine -----===//
//
// The row kernels are linalg on tensors that the CPU pipeline tiles into
// 64-element vectors with masked tails: dims below, at and past a tile and
// not multiples of 16, rows 1 to 33, every weight type they take.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace lathe;
using namespace lathe::cpu::test;

namespace {

class RowKernelsTest : public ::testing::Test {
protected:
  mlir::Type typeOf(StoredType type) {
    switch (type) {
    case StoredType::F32:
      return harness.f32();
    case StoredType::F16:
      return harness.f16();
    case StoredType::BF16:
      return harness.bf16();
    case StoredType::F8E4M3:
      return harness.f8e4m3();
    }
    return {};
  }
  KernelHarness harness;
};

TEST_F(RowKernelsTest, Embedding) {
  std::mt19937 rng(21);
  for (auto [dim, type] : {std::pair{100, StoredType::BF16},
                           std::pair{64, StoredType::F32},
                           std::pair{7, StoredType::F16}}) {
    const int64_t vocab = 50;
    std::unique_ptr<LoadedKernel> kernel =
        harness.load(EmbeddingSpec{vocab, dim, typeOf(type)});
    ASSERT_TRUE(kernel);
    StoredMatrix table = randomMatrix(rng, type, vocab, dim);
    for (int64_t m : {1, 3, 33}) {
      std::vector<int32_t> tokens(m);
      for (int32_t &t : tokens)
        t = std::uniform_int_distribution<int>(0, vocab - 1)(rng);
      std::vector<float> out(m * dim, std::nanf(""));
      kernel->run({tokens.data(), table.bytes.data(), out.data()}, {m});
      std::vector<double> want(m * dim);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < dim; ++c)
          want[r * dim + c] = table.values[tokens[r] * dim + c];
      expectClose(out, want, 0.0, 0.0, "embedding d" + std::to_string(dim));
    }
  }
}

struct RmsNormCase {
  int64_t dim, stride, offset;
  StoredType weight;
};

TEST_F(RowKernelsTest, RmsNorm) {
  std::mt19937 rng(22);
  const double eps = 1e-6;
  for (RmsNormCase c : {RmsNormCase{64, 64, 0, StoredType::F32},
                        RmsNormCase{100, 150, 30, StoredType::BF16},
                        RmsNormCase{1000, 1000, 0, StoredType::F16},
                        RmsNormCase{7, 9, 1, StoredType::F32},
                        RmsNormCase{128, 160, 32, StoredType::BF16}}) {
    std::unique_ptr<LoadedKernel> kernel = harness.load(
        RmsNormSpec{c.dim, c.stride, c.offset, typeOf(c.weight), eps});
    ASSERT_TRUE(kernel);
    StoredMatrix weight = randomMatrix(rng, c.weight, 1, c.dim);
    for (int64_t m : {1, 3, 33}) {
      std::vector<float> in = randomFloats(rng, m * c.stride, -2.0f, 2.0f);
      std::vector<float> out(m * c.dim, std::nanf(""));
      kernel->run({in.data(), weight.bytes.data(), out.data()}, {m});
      std::vector<double> want(m * c.dim);
      for (int64_t r = 0; r < m; ++r) {
        const float *x = &in[r * c.stride + c.offset];
        double sum = 0;
        for (int64_t i = 0; i < c.dim; ++i)
          sum += double(x[i]) * x[i];
        double rms = std::sqrt(sum / c.dim + eps);
        for (int64_t i = 0; i < c.dim; ++i)
          want[r * c.dim + i] = x[i] / rms * weight.values[i];
      }
      expectClose(out, want, 1e-5, 1e-7,
                  "rms_norm d" + std::to_string(c.dim) + " rows " +
                      std::to_string(m));
    }
  }
}

TEST_F(RowKernelsTest, Add) {
  std::mt19937 rng(23);
  for (int64_t dim : {100, 64, 5}) {
    std::unique_ptr<LoadedKernel> kernel = harness.load(AddSpec{dim});
    ASSERT_TRUE(kernel);
    for (int64_t m : {1, 3, 33}) {
      std::vector<float> a = randomFloats(rng, m * dim),
                         b = randomFloats(rng, m * dim);
      std::vector<float> out(m * dim, std::nanf(""));
      kernel->run({a.data(), b.data(), out.data()}, {m});
      std::vector<double> want(m * dim);
      for (size_t i = 0; i < want.size(); ++i)
        want[i] = a[i] + b[i];
      // f32 addition rounds once.
      expectClose(out, want, 6e-8, 0.0, "add d" + std::to_string(dim));
    }
  }
}

TEST_F(RowKernelsTest, GatherLast) {
  std::mt19937 rng(24);
  const int64_t dim = 100;
  std::unique_ptr<LoadedKernel> kernel = harness.load(GatherLastSpec{dim});
  ASSERT_TRUE(kernel);
  for (auto [batch, tokens] : {std::pair<int64_t, int64_t>{1, 1}, {3, 5},
                               {2, 1}}) {
    std::vector<float> in = randomFloats(rng, batch * tokens * dim);
    std::vector<float> out(batch * dim, std::nanf(""));
    kernel->run({in.data(), out.data()}, {batch, tokens});
    std::vector<double> want(batch * dim);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t c = 0; c < dim; ++c)
        want[b * dim + c] = in[(b * tokens + tokens - 1) * dim + c];
    expectClose(out, want, 0.0, 0.0, "gather_last");
  }
}

TEST_F(RowKernelsTest, MoECombine) {
  std::mt19937 rng(25);
  for (bool shared : {false, true}) {
    for (auto [dim, topk] :
         {std::pair<int64_t, int64_t>{100, 3}, {64, 1}, {20, 8}}) {
      std::unique_ptr<LoadedKernel> kernel =
          harness.load(MoECombineSpec{dim, topk, shared});
      ASSERT_TRUE(kernel);
      for (int64_t m : {1, 4, 33}) {
        std::vector<float> pairs = randomFloats(rng, m * topk * dim);
        std::vector<float> sharedOut = randomFloats(rng, m * dim);
        std::vector<float> out(m * dim, std::nanf(""));
        std::vector<void *> buffers = {pairs.data()};
        if (shared)
          buffers.push_back(sharedOut.data());
        buffers.push_back(out.data());
        kernel->run(buffers, {m});
        std::vector<double> want(m * dim), scale(m * dim);
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = 0; c < dim; ++c) {
            double sum = shared ? sharedOut[r * dim + c] : 0.0;
            double magnitude = std::fabs(sum);
            for (int64_t j = 0; j < topk; ++j) {
              sum += pairs[(r * topk + j) * dim + c];
              magnitude += std::fabs(pairs[(r * topk + j) * dim + c]);
            }
            want[r * dim + c] = sum;
            scale[r * dim + c] = magnitude;
          }
        expectClose(out, want, scale, 1e-6, 0.0,
                    "moe_combine d" + std::to_string(dim) + " k" +
                        std::to_string(topk) + (shared ? " shared" : ""));
      }
    }
  }
}

} // namespace

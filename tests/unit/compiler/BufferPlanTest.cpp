//===- BufferPlanTest.cpp - placing buffers in one arena ------------------===//

#include "compiler/BufferPlan.h"

#include <gtest/gtest.h>

#include <random>

using namespace lathe;

namespace {

/// No two buffers alive at once share a byte; every offset is aligned and
/// every buffer ends inside the arena.
void expectValid(llvm::ArrayRef<BufferLifetime> buffers, const BufferPlan &plan,
                 int64_t alignment) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  EXPECT_EQ(plan.bytes % alignment, 0);
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0) << "buffer " << i;
    EXPECT_LE(plan.offsets[i] + buffers[i].bytes, plan.bytes) << "buffer " << i;
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      bool together = buffers[i].first <= buffers[j].last &&
                      buffers[j].first <= buffers[i].last;
      bool overlap = plan.offsets[i] < plan.offsets[j] + buffers[j].bytes &&
                     plan.offsets[j] < plan.offsets[i] + buffers[i].bytes;
      EXPECT_FALSE(together && overlap) << "buffers " << i << " and " << j;
    }
  }
}

TEST(BufferPlan, BuffersAliveTogetherDoNotOverlap) {
  std::vector<BufferLifetime> buffers = {{100, 0, 2}, {200, 1, 3}, {50, 2, 2}};
  BufferPlan plan = planBuffers(buffers, 64);
  expectValid(buffers, plan, 64);
  // Largest first at 0, then the 100-byte one after it (aligned), then 50.
  EXPECT_EQ(plan.offsets[1], 0);
  EXPECT_EQ(plan.offsets[0], 256);
  EXPECT_EQ(plan.offsets[2], 384);
  EXPECT_EQ(plan.bytes, 448);
}

TEST(BufferPlan, BuffersAliveAtDifferentTimesShareBytes) {
  // A chain x0 -> x1 -> x2 -> x3: each buffer meets only its neighbours.
  std::vector<BufferLifetime> chain = {
      {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  BufferPlan plan = planBuffers(chain, 64);
  expectValid(chain, plan, 64);
  EXPECT_EQ(plan.bytes, 2048) << "two 1000-byte slots (aligned) suffice";
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.offsets[1], plan.offsets[3]);
}

TEST(BufferPlan, SmallBufferFillsAGap) {
  // A and C are alive together with a hole between them once B is dead.
  std::vector<BufferLifetime> buffers = {
      {128, 0, 5}, {128, 0, 1}, {128, 0, 5}, {64, 3, 4}};
  BufferPlan plan = planBuffers(buffers, 64);
  expectValid(buffers, plan, 64);
  EXPECT_EQ(plan.bytes, 384) << "the late 64-byte buffer reuses B's bytes";
  EXPECT_EQ(plan.offsets[3], plan.offsets[1]);
}

TEST(BufferPlan, EmptyAndZeroSized) {
  BufferPlan none = planBuffers({}, 64);
  EXPECT_TRUE(none.offsets.empty());
  EXPECT_EQ(none.bytes, 0);
  std::vector<BufferLifetime> zero = {{0, 0, 0}, {64, 0, 0}};
  expectValid(zero, planBuffers(zero, 64), 64);
}

TEST(BufferPlan, RandomLifetimesStayValid) {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferLifetime> buffers(1 + rng() % 40);
    int64_t total = 0;
    for (BufferLifetime &b : buffers) {
      b.bytes = 1 + rng() % 5000;
      b.first = rng() % 30;
      b.last = b.first + rng() % 8;
      total += (b.bytes + 63) / 64 * 64;
    }
    BufferPlan plan = planBuffers(buffers, 64);
    expectValid(buffers, plan, 64);
    EXPECT_LE(plan.bytes, total) << "never worse than no sharing";
  }
}

} // namespace

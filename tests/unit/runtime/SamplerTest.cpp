//===- SamplerTest.cpp - greedy and seeded sampling -----------------------===//

#include "runtime/exec/Sampler.h"
#include "runtime/exec/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace lathe::rt;

namespace {

const float nan = std::numeric_limits<float>::quiet_NaN();
const float inf = std::numeric_limits<float>::infinity();

TEST(Sampler, ArgmaxTakesTheLowestIdAmongTies) {
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f, 3.0f};
  EXPECT_EQ(argmax(logits.data(), 5), 1);
  logits = {7, 7, 7};
  EXPECT_EQ(argmax(logits.data(), 3), 0);
  logits = {-inf, -5, -5};
  EXPECT_EQ(argmax(logits.data(), 3), 1);
}

TEST(Sampler, ArgmaxSkipsNaNs) {
  std::vector<float> logits = {nan, 1.0f, nan, 2.0f};
  EXPECT_EQ(argmax(logits.data(), 4), 3);
  logits = {nan, nan};
  EXPECT_EQ(argmax(logits.data(), 2), -1);
  EXPECT_EQ(argmax(logits.data(), 0), -1);
}

TEST(Sampler, GreedyPicksTheArgmax) {
  Expected<Sampler> sampler = Sampler::create({});
  ASSERT_TRUE(sampler.ok());
  EXPECT_TRUE(sampler->greedy());
  std::vector<float> logits = {1, 9, 9, 2};
  EXPECT_EQ(*sampler->pick(logits.data(), 4), 1);
  logits = {nan, -inf, nan};
  EXPECT_EQ(sampler->pick(logits.data(), 3).status().message(),
            "no logit can be chosen: every one is NaN or -inf");
}

TEST(Sampler, RejectsBadTemperatures) {
  for (double t : {-1.0, double(nan), double(inf)})
    EXPECT_FALSE(Sampler::create({t, 0}).ok()) << t;
  EXPECT_TRUE(Sampler::create({0.01, 0}).ok());
}

std::vector<int64_t> draws(uint64_t seed, double temperature, int count) {
  Expected<Sampler> sampler = Sampler::create({temperature, seed});
  EXPECT_TRUE(sampler.ok());
  std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
  std::vector<int64_t> tokens;
  for (int i = 0; i < count; ++i)
    tokens.push_back(*sampler->pick(logits.data(), int64_t(logits.size())));
  return tokens;
}

TEST(Sampler, TheSameSeedGivesTheSameTokens) {
  EXPECT_EQ(draws(42, 1.0, 200), draws(42, 1.0, 200));
  EXPECT_NE(draws(42, 1.0, 200), draws(43, 1.0, 200));
  // Pinned: a change to the generator, the exp or the order of draws
  // changes what every user's --seed gives, and must be deliberate.
  EXPECT_EQ(draws(42, 1.0, 12),
            (std::vector<int64_t>{5, 3, 5, 5, 5, 5, 5, 2, 5, 1, 3, 2}));
}

TEST(Sampler, DrawsFollowTheSoftmax) {
  const int count = 60000;
  std::vector<int64_t> tokens = draws(7, 0.5, count);
  std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
  std::vector<double> expected(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i)
    total += expected[i] = std::exp(logits[i] / 0.5);
  std::vector<int> seen(logits.size(), 0);
  for (int64_t token : tokens)
    ++seen[size_t(token)];
  for (size_t i = 0; i < logits.size(); ++i) {
    double p = expected[i] / total;
    // Five standard deviations of a binomial count.
    double sigma = std::sqrt(count * p * (1 - p));
    EXPECT_NEAR(seen[i], count * p, 5 * sigma + 1) << "token " << i;
  }
}

TEST(Sampler, NonFiniteLogits) {
  Expected<Sampler> sampler = Sampler::create({1.0, 3});
  ASSERT_TRUE(sampler.ok());
  // NaN and -inf are never drawn.
  std::vector<float> logits = {nan, 0.0f, -inf, 0.0f};
  for (int i = 0; i < 200; ++i) {
    int64_t token = *sampler->pick(logits.data(), 4);
    EXPECT_TRUE(token == 1 || token == 3) << token;
  }
  // An infinite logit takes everything.
  logits = {1.0f, inf, 2.0f, inf};
  EXPECT_EQ(*sampler->pick(logits.data(), 4), 1);
}

TEST(Sampler, PortableExpMatchesExp) {
  for (double x = -745.0; x <= 0; x += 0.37) {
    double want = std::exp(x);
    double got = portableExp(x);
    if (want < 1e-300)
      EXPECT_NEAR(got, want, 1e-310) << x;
    else
      EXPECT_NEAR(got / want, 1.0, 1e-14) << x;
  }
  EXPECT_EQ(portableExp(0), 1.0);
  EXPECT_EQ(portableExp(-800), 0.0);
  EXPECT_EQ(portableExp(-std::numeric_limits<double>::infinity()), 0.0);
}

TEST(Random, Pcg32IsThePublishedGenerator) {
  // pcg32-demo of O'Neill's reference: pcg32_srandom_r(&rng, 42, 54).
  Pcg32 reference(42, 54);
  const uint32_t published[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                0x83d2f293, 0xbfa4784b, 0xcbed606e};
  for (uint32_t value : published)
    EXPECT_EQ(reference.next(), value);

  Pcg32 a = Pcg32::fromSeed(1), b = Pcg32::fromSeed(1), c = Pcg32::fromSeed(2);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    uint32_t x = a.next();
    EXPECT_EQ(x, b.next());
    same += x == c.next();
  }
  EXPECT_LT(same, 3);
  for (int i = 0; i < 1000; ++i) {
    double u = a.nextDouble();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

} // namespace

//===- GenerateTest.cpp - the generation loop on the toy model ------------===//

#include "runtime/exec/Generate.h"

#include "tests/unit/runtime/TestBundle.h"

#include <gtest/gtest.h>

using namespace lathe::rt;
using namespace lathe::rt::testing;

namespace {

std::unique_ptr<Session> toySession() {
  std::vector<uint8_t> blob = toyWeightBlob();
  Expected<Bundle> bundle =
      Bundle::fromBytes(buildBundle(toyModel(""), &blob), "toy.lathe", ".");
  EXPECT_TRUE(bundle.ok()) << bundle.status().message();
  SessionOptions options;
  options.threads = 2;
  Expected<std::unique_ptr<Session>> session =
      Session::create(std::move(*bundle), options);
  EXPECT_TRUE(session.ok()) << session.status().message();
  return session.ok() ? std::move(*session) : nullptr;
}

/// The greedy tokens the toy model gives after `prompt`.
std::vector<int64_t> expectedTokens(std::vector<int64_t> row, int64_t n) {
  std::vector<int64_t> tokens;
  for (int64_t i = 0; i < n; ++i) {
    tokens.push_back(toyNextToken(row));
    row.push_back(tokens.back());
  }
  return tokens;
}

TEST(Generate, GreedyFollowsTheModelThroughPrefillAndDecode) {
  std::unique_ptr<Session> session = toySession();
  ASSERT_TRUE(session);
  GenerateOptions options;
  options.maxNewTokens = 5;
  options.keepLogits = true;
  std::vector<int64_t> steps;
  options.onStep = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 5);
    steps.push_back(done);
  };
  // Two rows, prompt of 3; 3 + 5 - 1 = 7 <= max_seq_len 8.
  std::vector<int64_t> prompt = {5, 1, 2, 9, 0, 3};
  Expected<GenerateResult> result = generate(*session, prompt, 2, 3, options);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->batch, 2);
  EXPECT_EQ(result->newTokens, 5);
  std::vector<int64_t> row0 = expectedTokens({5, 1, 2}, 5);
  std::vector<int64_t> row1 = expectedTokens({9, 0, 3}, 5);
  EXPECT_EQ(
      std::vector<int64_t>(result->tokens.begin(), result->tokens.begin() + 5),
      row0);
  EXPECT_EQ(
      std::vector<int64_t>(result->tokens.begin() + 5, result->tokens.end()),
      row1);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5}));

  // Entry i of the logits is what token i was chosen from.
  ASSERT_EQ(result->logits.size(), size_t(5 * 2 * kToyVocab));
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t b = 0; b < 2; ++b)
      EXPECT_EQ(
          argmax(result->logits.data() + (i * 2 + b) * kToyVocab, kToyVocab),
          result->tokens[size_t(b * 5 + i)]);
  EXPECT_EQ(session->kvCache().length(0), 3 + 4);
}

TEST(Generate, StartsFromAnEmptyCacheEachTime) {
  std::unique_ptr<Session> session = toySession();
  ASSERT_TRUE(session);
  GenerateOptions options;
  options.maxNewTokens = 3;
  Expected<GenerateResult> first = generate(*session, {7, 7}, 1, 2, options);
  Expected<GenerateResult> second = generate(*session, {7, 7}, 1, 2, options);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->tokens, second->tokens);
  EXPECT_EQ(first->tokens, expectedTokens({7, 7}, 3));
}

TEST(Generate, UsesEveryPositionUpToMaxSeqLen) {
  std::unique_ptr<Session> session = toySession();
  ASSERT_TRUE(session);
  GenerateOptions options;
  options.maxNewTokens = 6; // 3 + 6 - 1 = 8 = max_seq_len
  Expected<GenerateResult> result =
      generate(*session, {1, 2, 3}, 1, 3, options);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->tokens, expectedTokens({1, 2, 3}, 6));

  options.maxNewTokens = 7;
  result = generate(*session, {1, 2, 3}, 1, 3, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "prompt: 3 prompt tokens and 7 new ones need 3 + 7 - 1 positions, "
            "more than the max_seq_len 8 toy.lathe was compiled for "
            "(lathe-compile --max-seq-len)");
}

TEST(Generate, ChecksThePromptBeforeRunning) {
  std::unique_ptr<Session> session = toySession();
  ASSERT_TRUE(session);
  GenerateOptions options;
  options.maxNewTokens = 2;
  options.promptName = "p.npy";
  Expected<GenerateResult> result =
      generate(*session, {1, 2, 3}, 3, 1, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "p.npy: 3 rows, but toy.lathe was compiled for at most 2 "
            "(lathe-compile --max-batch)");
  result = generate(*session, {1, 16}, 1, 2, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "p.npy: token [0, 1] is 16, outside the vocabulary [0, 16)");
  result = generate(*session, {}, 1, 0, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "p.npy: shape [1, 0] needs at least one row and one token");
  EXPECT_EQ(session->kvCache().length(0), 0);
}

TEST(Generate, ZeroNewTokensRunsNothing) {
  std::unique_ptr<Session> session = toySession();
  ASSERT_TRUE(session);
  GenerateOptions options;
  Expected<GenerateResult> result = generate(*session, {1, 2}, 2, 1, options);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->tokens.empty());
  EXPECT_EQ(session->kvCache().length(0), 0);
}

TEST(Generate, SeededSamplingRepeatsAcrossSessions) {
  GenerateOptions options;
  options.maxNewTokens = 6;
  options.sampling = {1.5, 1234};
  std::vector<int64_t> prompt = {1, 2, 3, 4};
  std::unique_ptr<Session> a = toySession(), b = toySession();
  ASSERT_TRUE(a && b);
  Expected<GenerateResult> first = generate(*a, prompt, 2, 2, options);
  Expected<GenerateResult> second = generate(*b, prompt, 2, 2, options);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->tokens, second->tokens);
  for (int64_t token : first->tokens)
    EXPECT_TRUE(token >= 0 && token < kToyVocab);
  // At temperature 1.5 over logits -|v - next|, some draw leaves the argmax
  // with near certainty; greedy would follow expectedTokens.
  std::vector<int64_t> greedy = expectedTokens({1, 2}, 6);
  EXPECT_NE(
      std::vector<int64_t>(first->tokens.begin(), first->tokens.begin() + 6),
      greedy);

  options.sampling.seed = 1235;
  Expected<GenerateResult> other = generate(*a, prompt, 2, 2, options);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->tokens, first->tokens);
}

TEST(Generate, NeedsPrefillAndDecode) {
  BundleSpec spec = toyModel("");
  spec.functions.pop_back(); // decode
  std::vector<uint8_t> blob = toyWeightBlob();
  Expected<Bundle> bundle =
      Bundle::fromBytes(buildBundle(spec, &blob), "toy.lathe", ".");
  ASSERT_TRUE(bundle.ok());
  Expected<std::unique_ptr<Session>> session =
      Session::create(std::move(*bundle), SessionOptions());
  ASSERT_TRUE(session.ok());
  GenerateOptions options;
  options.maxNewTokens = 1; // prefill alone suffices
  EXPECT_TRUE(generate(**session, {1}, 1, 1, options).ok());
  options.maxNewTokens = 2;
  Expected<GenerateResult> result = generate(**session, {1}, 1, 1, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "generation needs 'prefill' and 'decode': toy.lathe: no function "
            "'decode' (the bundle has 'add', 'weights', 'scale', 'count', "
            "'prefill')");
}

} // namespace

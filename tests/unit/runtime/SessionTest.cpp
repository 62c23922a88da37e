//===- SessionTest.cpp - calling a bundle's functions ---------------------===//

#include "runtime/exec/Session.h"

#include "tests/unit/runtime/TempDir.h"
#include "tests/unit/runtime/TestBundle.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace lathe::rt;
using namespace lathe::rt::testing;

namespace {

/// A session of `spec` with the toy weights embedded, on 2 threads.
std::unique_ptr<Session> sessionOf(BundleSpec spec) {
  spec.files = toyModel("").files;
  for (uint32_t i = 0; i < spec.weights.size(); ++i)
    spec.weights[i].offset = 64 * i;
  std::vector<uint8_t> blob = toyWeightBlob();
  Expected<Bundle> bundle =
      Bundle::fromBytes(buildBundle(spec, &blob), "toy.lathe", ".");
  EXPECT_TRUE(bundle.ok()) << bundle.status().message();
  if (!bundle)
    return nullptr;
  SessionOptions options;
  options.threads = 2;
  Expected<std::unique_ptr<Session>> session =
      Session::create(std::move(*bundle), options);
  EXPECT_TRUE(session.ok()) << session.status().message();
  return session.ok() ? std::move(*session) : nullptr;
}

Tensor floats(std::vector<int64_t> shape, const std::vector<float> &values) {
  Tensor tensor{DType::F32, std::move(shape), {}};
  tensor.data.resize(values.size() * sizeof(float));
  if (!values.empty())
    std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

Tensor ints(std::vector<int64_t> shape, const std::vector<int32_t> &values) {
  Tensor tensor{DType::I32, std::move(shape), {}};
  tensor.data.resize(values.size() * sizeof(int32_t));
  if (!values.empty())
    std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

template <typename T> std::vector<T> valuesOf(const Tensor &tensor) {
  std::vector<T> values(tensor.data.size() / sizeof(T));
  if (!values.empty())
    std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
  return values;
}

std::string callError(Session &session, const std::string &function,
                      const std::vector<TensorView> &inputs) {
  Expected<std::vector<Tensor>> outputs = session.call(function, inputs);
  EXPECT_FALSE(outputs.ok()) << "the call succeeded";
  return outputs.ok() ? "" : outputs.status().message();
}

TEST(Session, RunsStepsThroughTheArena) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  // Five elements: two workgroups of lt_add, the second partial.
  Tensor a = floats({5}, {1, 2, 3, 4, 5});
  Tensor b = floats({5}, {10, 20, 30, 40, 50});
  Expected<std::vector<Tensor>> outputs = session->call("add", {a, b});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ((*outputs)[0].dtype, DType::F32);
  EXPECT_EQ((*outputs)[0].shape, std::vector<int64_t>{5});
  EXPECT_EQ(valuesOf<float>((*outputs)[0]),
            (std::vector<float>{21, 42, 63, 84, 105}));

  // Another size reuses the function's buffers.
  outputs = session->call("add", {floats({1}, {1}), floats({1}, {2})});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ(valuesOf<float>((*outputs)[0]), std::vector<float>{5});
  // An empty input runs no workgroup.
  outputs = session->call("add", {floats({0}, {}), floats({0}, {})});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ((*outputs)[0].shape, std::vector<int64_t>{0});
}

TEST(Session, PassesWeightsTablesAndConstants) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  Expected<std::vector<Tensor>> outputs =
      session->call("weights", {floats({4}, {0.5, 0.5, 0.5, 0.5})});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ(valuesOf<float>((*outputs)[0]),
            (std::vector<float>{1.5, 2.5, 3.5, 4.5}));
  EXPECT_EQ(valuesOf<float>((*outputs)[1]),
            (std::vector<float>{111, 222, 333, 444}));
  EXPECT_EQ(valuesOf<float>((*outputs)[2]),
            (std::vector<float>{1.5, 2.5, 3.5, 4.5}));
}

TEST(Session, RunsTwoAndThreeDimensionalGrids) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  Expected<std::vector<Tensor>> outputs =
      session->call("scale", {floats({2, 3}, {1, 2, 3, 4, 5, 6})});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ(valuesOf<float>((*outputs)[0]),
            (std::vector<float>{3, 6, 9, 13, 16, 19}));

  // Every workgroup of a [5, 4, 3] grid, once, through the device.
  Tensor shape = floats({3, 4, 5}, std::vector<float>(60, 0));
  outputs = session->call("count", {shape});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ((*outputs)[0].dtype, DType::I32);
  EXPECT_EQ(valuesOf<int32_t>((*outputs)[0]), std::vector<int32_t>(60, 1));
}

TEST(Session, ChecksInputsAgainstTheFunction) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  Tensor a = floats({3}, {1, 2, 3});
  EXPECT_EQ(callError(*session, "add", {a}),
            "toy.lathe: function 'add': takes 2 inputs (a, b), but the call "
            "gave 1");
  EXPECT_EQ(callError(*session, "add", {a, ints({3}, {1, 2, 3})}),
            "toy.lathe: function 'add': input 1 'b': is I32 but the function "
            "takes F32");
  EXPECT_EQ(callError(*session, "add", {a, floats({1, 3}, {1, 2, 3})}),
            "toy.lathe: function 'add': input 1 'b': has shape [1, 3] of rank "
            "2 but the function takes [n] of rank 1");
  EXPECT_EQ(callError(*session, "add", {a, floats({2}, {1, 2})}),
            "toy.lathe: function 'add': input 1 'b': has shape [2] but the "
            "function takes [n] = [3]");
  Tensor big = floats({65}, std::vector<float>(65, 0));
  EXPECT_EQ(callError(*session, "add", {big, big}),
            "toy.lathe: function 'add': symbol 'n' (dim 0 of input 0 'a') is "
            "65, more than its max 64");
  TensorView lying(DType::F32, {3}, a.data.data(), 8);
  EXPECT_EQ(callError(*session, "add", {lying, a}),
            "toy.lathe: function 'add': input 0 'a': shape [3] needs 12 bytes "
            "but the data has 8");
  EXPECT_EQ(callError(*session, "mul", {a, a}),
            "toy.lathe: no function 'mul' (the bundle has 'add', 'weights', "
            "'scale', 'count', 'prefill', 'decode')");
}

TEST(Session, FillsPositionsAndAdvancesTheCache) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  EXPECT_EQ(session->kvCache().length(0), 0);
  // Row 0 gets [5, 1, 2]; the runtime fills positions 0, 1, 2.
  Expected<std::vector<Tensor>> logits =
      session->call("prefill", {ints({1, 3}, {5, 1, 2})});
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  EXPECT_EQ(session->kvCache().length(0), 3);
  EXPECT_EQ(session->kvCache().length(1), 0);
  EXPECT_EQ((*logits)[0].shape, (std::vector<int64_t>{1, kToyVocab}));
  std::vector<float> row = valuesOf<float>((*logits)[0]);
  int64_t next = toyNextToken({5, 1, 2});
  EXPECT_EQ(row[size_t(next)], 0.0f);
  EXPECT_EQ(row[size_t((next + 1) % kToyVocab)], -1.0f);

  // decode appends at position 3, after what the cache holds.
  logits = session->call("decode", {ints({1, 1}, {int32_t(next)})});
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  EXPECT_EQ(session->kvCache().length(0), 4);
  EXPECT_EQ(
      valuesOf<float>((*logits)[0])[size_t(toyNextToken({5, 1, 2, next}))],
      0.0f);

  // Positions given by the caller are used as given.
  session->reset();
  EXPECT_EQ(session->kvCache().length(0), 0);
  logits =
      session->call("prefill", {ints({1, 2}, {4, 4}), ints({1, 2}, {0, 1})});
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  EXPECT_EQ(session->kvCache().length(0), 2);
  EXPECT_EQ(valuesOf<float>((*logits)[0])[size_t(toyNextToken({4, 4}))], 0.0f);
}

TEST(Session, KeepsARowLengthPerRow) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->call("prefill", {ints({2, 2}, {1, 2, 3, 4})}).ok());
  ASSERT_TRUE(session->call("prefill", {ints({1, 3}, {7, 7, 7})}).ok());
  EXPECT_EQ(session->kvCache().length(0), 5);
  EXPECT_EQ(session->kvCache().length(1), 2);
  // Row 1 continues at its own position 2: its logits follow [3, 4, 9].
  Expected<std::vector<Tensor>> logits =
      session->call("decode", {ints({2, 1}, {9, 9})});
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  std::vector<float> rows = valuesOf<float>((*logits)[0]);
  EXPECT_EQ(rows[size_t(toyNextToken({1, 2, 7, 7, 7, 9}))], 0.0f);
  EXPECT_EQ(rows[size_t(kToyVocab + toyNextToken({3, 4, 9}))], 0.0f);
}

TEST(Session, RefusesToRunARowPastMaxSeqLen) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  ASSERT_TRUE(
      session->call("prefill", {ints({1, 7}, {1, 1, 1, 1, 1, 1, 1})}).ok());
  ASSERT_TRUE(session->call("decode", {ints({1, 1}, {1})}).ok());
  EXPECT_EQ(session->kvCache().length(0), 8);
  EXPECT_EQ(callError(*session, "decode", {ints({1, 1}, {1})}),
            "toy.lathe: function 'decode': the KV cache: row 0 has 8 "
            "positions cached; 1 more would pass max_seq_len 8");
  // Refused before running: nothing changed.
  EXPECT_EQ(session->kvCache().length(0), 8);
  session->reset();
  EXPECT_TRUE(session->call("decode", {ints({1, 1}, {1})}).ok());
}

TEST(Session, RejectsTokensOutsideTheVocabulary) {
  std::unique_ptr<Session> session = sessionOf(toyModel());
  ASSERT_TRUE(session);
  EXPECT_EQ(callError(*session, "prefill", {ints({1, 2}, {3, 16})}),
            "toy.lathe: function 'prefill': input 0 'tokens': element 1 is "
            "token 16, outside the vocabulary [0, 16)");
  EXPECT_EQ(callError(*session, "prefill", {ints({1, 2}, {-1, 0})}),
            "toy.lathe: function 'prefill': input 0 'tokens': element 0 is "
            "token -1, outside the vocabulary [0, 16)");
  EXPECT_EQ(session->kvCache().length(0), 0);
}

TEST(Session, ChecksCallTimeShapesAndGrids) {
  // An output offset past the data this call's shapes give.
  BundleSpec spec = toyModel();
  spec.functions[0].steps[1].buffers[2].offset = 8;
  std::unique_ptr<Session> session = sessionOf(spec);
  ASSERT_TRUE(session);
  EXPECT_EQ(callError(*session, "add", {floats({1}, {1}), floats({1}, {1})}),
            "toy.lathe: function 'add': steps[1] (kernel 'add'): buffers[2]: "
            "offset 8 is past the end of output 0 'out' (4 bytes in this "
            "call)");

  // A scalar that divides by a symbol of 0.
  spec = toyModel();
  spec.functions[0].steps[0].scalars[0] = ceilDiv(constant(4), symbol(0));
  session = sessionOf(spec);
  ASSERT_TRUE(session);
  EXPECT_EQ(callError(*session, "add", {floats({0}, {}), floats({0}, {})}),
            "toy.lathe: function 'add': steps[0] (kernel 'add'): scalars[0] = "
            "4 ceildiv n: CeilDiv of 4 by 0: the divisor must be positive");

  // A shape that evaluates negative.
  spec = toyModel();
  spec.functions[0].outputs[0].shape[0] = symbol(0) + constant(-2);
  session = sessionOf(spec);
  ASSERT_TRUE(session);
  EXPECT_EQ(callError(*session, "add", {floats({1}, {1}), floats({1}, {1})}),
            "toy.lathe: function 'add': output 0 'out': shape[0] = n + -2 is "
            "negative (-1)");
}

TEST(Session, OpensABundleFileWithItsWeights) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  writeBytes(dir.make("m/toy.lathe"),
             buildBundle(toyModel("../w/weights.bin")));
  writeBytes(dir.make("w/weights.bin"), toyWeightFile());
  SessionOptions options;
  options.threads = 1;
  Expected<std::unique_ptr<Session>> session =
      Session::open(dir.path() + "/m/toy.lathe", options);
  ASSERT_TRUE(session.ok()) << session.status().message();
  Expected<std::vector<Tensor>> outputs =
      (*session)->call("weights", {floats({4}, {0, 0, 0, 0})});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ(valuesOf<float>((*outputs)[0]), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Session, ExplainsDevicesItCannotUse) {
  std::vector<uint8_t> blob = toyWeightBlob();
  BundleSpec spec = toyModel("");
  Expected<Bundle> bundle =
      Bundle::fromBytes(buildBundle(spec, &blob), "toy.lathe", ".");
  ASSERT_TRUE(bundle.ok());
  SessionOptions options;
  options.device = DeviceKind::Cuda;
  Expected<std::unique_ptr<Session>> session =
      Session::create(std::move(*bundle), options);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().message().find(
                "toy.lathe: cannot run on cuda: the bundle has no CUDA "
                "target; the bundle has targets: cpu; this machine has: cpu"),
            0u)
      << session.status().message();

  spec.targets[0].name = "sm_90a";
  bundle = Bundle::fromBytes(buildBundle(spec, &blob), "toy.lathe", ".");
  ASSERT_TRUE(bundle.ok());
  session = Session::create(std::move(*bundle), SessionOptions());
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().message().find(
                "toy.lathe: no target of this bundle runs here: the bundle "
                "has targets: sm_90a; this machine has: cpu"),
            0u)
      << session.status().message();
}

} // namespace

//===- BundleTest.cpp - the bundle loader's checks ------------------------===//
//
// Every rule of docs/bundle-format.md that the loader enforces, each tested
// by breaking exactly it in an otherwise valid toy bundle, and the file
// checks (trailer, checksum, verifier, identifier, version) on damaged
// bytes. Every case must end in an error that names the field, never in a
// crash.
//
//===----------------------------------------------------------------------===//

#include "runtime/bundle/Bundle.h"

#include "tests/unit/runtime/TestBundle.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace lathe::rt;
using namespace lathe::rt::testing;
using K = lathe::bundle::BufferKind;
using lathe::bundle::ElementType;
using lathe::bundle::ExprOpKind;
using lathe::bundle::ParamRole;

namespace {

Expected<Bundle> load(std::vector<uint8_t> bytes) {
  return Bundle::fromBytes(std::move(bytes), "t.lathe", ".");
}

/// The error of loading `bytes`; fails the test if it loads.
std::string errorOf(std::vector<uint8_t> bytes) {
  Expected<Bundle> bundle = load(std::move(bytes));
  EXPECT_FALSE(bundle.ok()) << "the bundle loaded";
  return bundle.ok() ? "" : bundle.status().message();
}

std::string errorOf(const BundleSpec &spec) {
  return errorOf(buildBundle(spec));
}

/// `message` contains `part`.
::testing::AssertionResult mentions(const std::string &message,
                                    const std::string &part) {
  if (message.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "'" << message << "' does not mention '" << part << "'";
}

FunctionSpec &function(BundleSpec &spec, const std::string &name) {
  for (FunctionSpec &f : spec.functions)
    if (f.name == name)
      return f;
  throw std::runtime_error("no function " + name);
}

TEST(BundleLoader, LoadsTheToyModel) {
  Expected<Bundle> bundle = load(buildBundle(toyModel()));
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  EXPECT_EQ(bundle->root().version(), 1u);
  EXPECT_EQ(bundle->findFunction("prefill"), 4);
  EXPECT_EQ(bundle->findFunction("nope"), -1);
  EXPECT_EQ(bundle->findTarget("cpu"), 0);
  EXPECT_EQ(bundle->blobSize(), 0u);

  std::vector<uint8_t> blob = toyWeightBlob();
  Expected<Bundle> embedded = load(buildBundle(toyModel(""), &blob));
  ASSERT_TRUE(embedded.ok()) << embedded.status().message();
  EXPECT_EQ(embedded->blobSize(), blob.size());
  EXPECT_EQ(std::memcmp(embedded->blobData(), blob.data(), blob.size()), 0);
}

TEST(BundleLoader, RejectsFilesShorterThanTheTrailer) {
  for (size_t size : {0, 1, 31})
    EXPECT_TRUE(mentions(errorOf(std::vector<uint8_t>(size, 'L')),
                         "is shorter than the 32-byte trailer"));
}

TEST(BundleLoader, RejectsTruncatedFiles) {
  std::vector<uint8_t> bytes = buildBundle(toyModel());
  for (size_t size : {size_t(32), size_t(100), bytes.size() / 2,
                      bytes.size() - 32, bytes.size() - 1}) {
    std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + size);
    EXPECT_TRUE(mentions(errorOf(truncated), "trailer magic 'LATHEBDL'"))
        << "truncated to " << size;
  }
}

TEST(BundleLoader, RejectsABadMagic) {
  std::vector<uint8_t> bytes = buildBundle(toyModel());
  bytes.back() = 'X';
  EXPECT_TRUE(mentions(errorOf(bytes), "not a lathe bundle"));
}

/// A bundle whose trailer fields are replaced.
std::vector<uint8_t> withTrailer(std::vector<uint8_t> bytes, uint64_t size,
                                 uint64_t blob) {
  uint8_t *trailer = bytes.data() + bytes.size() - 32;
  std::memcpy(trailer, &size, 8);
  std::memcpy(trailer + 8, &blob, 8);
  return bytes;
}

TEST(BundleLoader, RejectsTrailerFieldsOutsideTheFile) {
  std::vector<uint8_t> bytes = buildBundle(toyModel());
  uint64_t flatbuffer = bytes.size() - 32;
  EXPECT_TRUE(mentions(errorOf(withTrailer(bytes, flatbuffer + 1, 0)),
                       "does not fit before the trailer"));
  EXPECT_TRUE(mentions(errorOf(withTrailer(bytes, 0, 0)),
                       "does not fit before the trailer"));
  EXPECT_TRUE(mentions(errorOf(withTrailer(bytes, ~uint64_t(0), 0)),
                       "does not fit before the trailer"));

  std::vector<uint8_t> blob = toyWeightBlob();
  std::vector<uint8_t> embedded = buildBundle(toyModel(""), &blob);
  uint64_t size, offset;
  std::memcpy(&size, embedded.data() + embedded.size() - 32, 8);
  std::memcpy(&offset, embedded.data() + embedded.size() - 24, 8);
  EXPECT_TRUE(mentions(errorOf(withTrailer(embedded, size, offset + 8)),
                       "is not a multiple of 64"));
  EXPECT_TRUE(mentions(errorOf(withTrailer(embedded, size, offset - 64)),
                       "is outside"));
  EXPECT_TRUE(mentions(errorOf(withTrailer(embedded, size, offset + 1024)),
                       "is outside"));
}

TEST(BundleLoader, AFlippedFlatBufferByteFailsTheChecksum) {
  std::vector<uint8_t> bytes = buildBundle(toyModel());
  for (size_t offset : {size_t(0), size_t(5), size_t(100), bytes.size() / 2,
                        bytes.size() - 33}) {
    std::vector<uint8_t> flipped = bytes;
    flipped[offset] ^= 0x5a;
    EXPECT_TRUE(mentions(errorOf(flipped), "checksum mismatch"))
        << "byte " << offset;
  }
  // A flipped checksum byte, likewise.
  std::vector<uint8_t> flipped = bytes;
  flipped[bytes.size() - 16] ^= 1;
  EXPECT_TRUE(mentions(errorOf(flipped), "checksum mismatch"));
}

TEST(BundleLoader, RejectsWhatFlatBuffersVerifierRejects) {
  std::vector<uint8_t> flatbuffer = buildFlatbuffer(toyModel());
  // The root offset points past the buffer; the checksum is recomputed, so
  // only the verifier can tell.
  uint32_t root = 0x7ffffff0;
  std::memcpy(flatbuffer.data(), &root, 4);
  EXPECT_TRUE(mentions(errorOf(assembleBundle(flatbuffer)),
                       "fails FlatBuffers' verifier"));
}

TEST(BundleLoader, RejectsAnotherIdentifier) {
  std::vector<uint8_t> flatbuffer = buildFlatbuffer(toyModel());
  std::memcpy(flatbuffer.data() + 4, "ONNX", 4);
  EXPECT_TRUE(mentions(errorOf(assembleBundle(flatbuffer)),
                       "lacks the file identifier 'LATH'"));
}

TEST(BundleLoader, RejectsAnotherVersion) {
  BundleSpec spec = toyModel();
  spec.version = 2;
  EXPECT_EQ(errorOf(spec), "t.lathe: bundle version 2 is not the version "
                           "this runtime reads (1)");
}

TEST(BundleLoader, ChecksTheConfig) {
  BundleSpec spec = toyModel();
  spec.hasConfig = false;
  EXPECT_EQ(errorOf(spec), "t.lathe: config is missing");
  spec = toyModel();
  spec.maxBatch = 0;
  EXPECT_EQ(errorOf(spec),
            "t.lathe: config.max_batch is 0; it must be at least 1");
  spec = toyModel();
  spec.vocab = -1;
  EXPECT_TRUE(mentions(errorOf(spec), "config.vocab_size is -1"));
}

TEST(BundleLoader, ChecksTheKVCacheLayout) {
  BundleSpec spec = toyModel();
  spec.kv->bytesPerToken = 7;
  EXPECT_EQ(errorOf(spec),
            "t.lathe: kv_cache.bytes_per_token is 7 but num_layers 1 x width "
            "2 x 4 bytes of F32 is 8");
  spec = toyModel();
  spec.kv->dtype = ElementType(42);
  EXPECT_EQ(errorOf(spec),
            "t.lathe: kv_cache.dtype: ElementType(42) is not an element type");
  spec = toyModel();
  spec.kv->maxSeqLen = 9;
  EXPECT_TRUE(mentions(errorOf(spec), "kv_cache is [max_batch 2, max_seq_len "
                                      "9] but config says"));
  spec = toyModel();
  spec.maxSeqLen = int64_t(1) << 40;
  spec.kv->width = 1u << 30;
  EXPECT_TRUE(mentions(errorOf(spec), "kv_cache: a layer: the byte size "
                                      "overflows int64"));
}

TEST(BundleLoader, ChecksWeightFiles) {
  BundleSpec spec = toyModel("");
  EXPECT_TRUE(mentions(errorOf(spec), "weight_files[0]: the embedded blob it "
                                      "names (empty path) is absent"));
  std::vector<uint8_t> blob = toyWeightBlob();
  spec.files[0].size = blob.size() + 1;
  EXPECT_TRUE(mentions(errorOf(buildBundle(spec, &blob)),
                       "the embedded blob is 144 bytes but size says 145"));

  spec = toyModel("/abs/weights.bin");
  EXPECT_TRUE(mentions(errorOf(spec),
                       "weight_files[0] '/abs/weights.bin': the path is "
                       "absolute"));
  spec = toyModel();
  spec.files[0].headerSize = 65;
  EXPECT_TRUE(mentions(errorOf(spec), "header_size 65 is larger than the "
                                      "file's size 64"));
  spec = toyModel(std::string("a\0b", 3));
  EXPECT_TRUE(mentions(errorOf(spec), "the path contains a NUL byte"));
}

TEST(BundleLoader, ChecksWeights) {
  BundleSpec spec = toyModel();
  spec.weights[1].file = 3;
  EXPECT_EQ(errorOf(spec), "t.lathe: weights[1] 'w1': file 3 is out of range "
                           "(the bundle has 1 weight files)");
  spec = toyModel();
  spec.weights[2].offset = 50;
  EXPECT_EQ(errorOf(spec),
            "t.lathe: weights[2] 'w2': bytes [50, 50 + 16) lie outside "
            "weight_files[0] 'weights.bin' (64 bytes)");
  spec = toyModel();
  spec.weights[2].offset = ~uint64_t(0) - 4;
  EXPECT_TRUE(mentions(errorOf(spec), "lie outside weight_files[0]"));
  spec = toyModel();
  spec.weights[0].shape = {2, -2};
  EXPECT_EQ(errorOf(spec),
            "t.lathe: weights[0] 'w0': shape: dim 1 is negative (-2)");
  spec = toyModel();
  spec.weights[0].shape = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_TRUE(mentions(errorOf(spec), "the byte size overflows int64"));
  spec = toyModel();
  spec.weights[0].dtype = ElementType(99);
  EXPECT_TRUE(mentions(errorOf(spec), "dtype ElementType(99) is not an "
                                      "element type"));
  spec = toyModel("");
  spec.weights[1].offset = 32;
  std::vector<uint8_t> blob = toyWeightBlob();
  EXPECT_TRUE(mentions(errorOf(buildBundle(spec, &blob)),
                       "offset 32 in the embedded blob is not a multiple of "
                       "64"));
}

TEST(BundleLoader, ChecksWeightTablesAndConstants) {
  BundleSpec spec = toyModel();
  spec.tables[0].second = {0, 3};
  EXPECT_EQ(errorOf(spec), "t.lathe: weight_tables[0] 'experts': weights[1] "
                           "= 3 is out of range (the bundle has 3 weights)");
  spec = toyModel();
  spec.constants[0].data.pop_back();
  EXPECT_EQ(errorOf(spec), "t.lathe: constants[0] 'c0': data holds 15 bytes "
                           "but shape [4] of F32 needs 16");
}

TEST(BundleLoader, ChecksKernelsAndTargets) {
  BundleSpec spec = toyModel();
  spec.kernels[1].name = "add";
  EXPECT_EQ(errorOf(spec), "t.lathe: kernels[1] 'add': another kernel has the "
                           "same name");
  spec = toyModel();
  spec.targets[0].kernelCount = 4;
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': has code for 4 "
                           "kernels but the bundle has 5");
  spec = toyModel();
  spec.kernels[2].grid.pop_back();
  EXPECT_TRUE(mentions(errorOf(spec), "grid has 2 expressions; it needs 3"));
  spec = toyModel();
  spec.kernels[0].grid[0] = symbol(1);
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': kernels[0] (for "
                           "kernels[0] 'add'): grid[0]: op 0: symbol 1 is out "
                           "of range (1 symbols)");
  spec = toyModel();
  spec.targets[0].code.clear();
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': shared_object is "
                           "empty");
  spec = toyModel();
  spec.targets.push_back(spec.targets[0]);
  EXPECT_TRUE(mentions(errorOf(spec), "another target has the same name"));
  spec = toyModel();
  spec.targets[0].symbolOverrides = {{3, ""}};
  EXPECT_TRUE(mentions(errorOf(spec), "kernels[3] 'count'): symbol is empty"));
}

TEST(BundleLoader, ChecksStepsAgainstTheirKernels) {
  BundleSpec spec = toyModel();
  function(spec, "add").steps[1].kernel = 5;
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[0] 'add': steps[1]: kernel 5 "
                           "is out of range (the bundle has 5 kernels)");
  spec = toyModel();
  function(spec, "add").steps[0].buffers.pop_back();
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[0] 'add': steps[0]: has 2 "
                           "buffers but kernels[0] 'add' takes 3");
  spec = toyModel();
  function(spec, "scale").steps[0].scalars.push_back(constant(1));
  EXPECT_TRUE(mentions(errorOf(spec), "has 4 scalars but kernels[2] 'scale2d' "
                                      "takes 3"));
}

TEST(BundleLoader, RejectsBadExpressions) {
  BundleSpec spec = toyModel();
  function(spec, "add").steps[0].scalars[0] = symbol(1);
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[0] 'add': steps[0]: "
                           "scalars[0]: op 0: symbol 1 is out of range (1 "
                           "symbols)");
  spec = toyModel();
  function(spec, "add").steps[0].scalars[0] =
      ExprSpec{{{ExprOpKind::Const, 1}, {ExprOpKind::Add, 0}}};
  EXPECT_TRUE(mentions(errorOf(spec), "op 1 (Add) needs 2 values"));
  spec = toyModel();
  function(spec, "scale").inputs[0].shape[1] =
      ExprSpec{{{ExprOpKind::Const, 1}, {ExprOpKind::Const, 2}}};
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[2] 'scale': inputs[0] 'm': "
                           "shape[1]: the expression leaves 2 values on the "
                           "stack instead of 1");
  spec = toyModel();
  function(spec, "add").outputs[0].shape[0] = ExprSpec{};
  EXPECT_TRUE(mentions(errorOf(spec), "outputs[0] 'out': shape[0]: the "
                                      "expression is empty"));
}

TEST(BundleLoader, ChecksEveryBufferIndexAndOffset) {
  struct Case {
    BufferSpec buffer;
    const char *message;
  };
  const Case cases[] = {
      {{K::Input, 2}, "Input index 2 is out of range (2 inputs)"},
      {{K::Output, 1}, "Output index 1 is out of range (1 outputs)"},
      {{K::Weight, 3}, "Weight index 3 is out of range (3 weights)"},
      {{K::WeightTable, 1},
       "WeightTable index 1 is out of range (1 weight_tables)"},
      {{K::KVCache, 1}, "KVCache index 1 is out of range (1 KV-cache layers)"},
      {{K::Constant, 1}, "Constant index 1 is out of range (1 constants)"},
      {{K::Arena, 1},
       "Arena index 1 is out of range (a function has one arena, 0)"},
      {{K::Arena, 0, 321}, "Arena 0: offset 321 is past its end (320 bytes)"},
      {{K::Weight, 0, 17}, "Weight 0: offset 17 is past its end (16 bytes)"},
      {{K::WeightTable, 0, 25},
       "WeightTable 0: offset 25 is past its end (24 bytes)"},
      {{K::KVCache, 0, 129},
       "KVCache 0: offset 129 is past its end (128 bytes)"},
      {{K::Constant, 0, 17},
       "Constant 0: offset 17 is past its end (16 bytes)"},
      {{K(9), 0}, "kind 9 is not a BufferKind"},
  };
  for (const Case &c : cases) {
    BundleSpec spec = toyModel();
    function(spec, "add").steps[0].buffers[1] = c.buffer;
    EXPECT_EQ(errorOf(spec), std::string("t.lathe: functions[0] 'add': "
                                         "steps[0]: buffers[1]: ") +
                                 c.message);
  }
  // At the end is still inside: a zero-size view.
  BundleSpec spec = toyModel();
  function(spec, "add").steps[0].buffers[1] = {K::Arena, 0, 320};
  EXPECT_TRUE(load(buildBundle(spec)).ok());
}

TEST(BundleLoader, ChecksSymbolsAndRoles) {
  BundleSpec spec = toyModel();
  function(spec, "add").symbols[0].input = 2;
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[0] 'add': symbols[0] 'n': "
                           "input 2 is out of range (the function has 2 "
                           "inputs)");
  spec = toyModel();
  function(spec, "add").symbols[0].dim = 1;
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[0] 'add': symbols[0] 'n': dim "
                           "1 of inputs[0] 'a' is out of range (rank 1)");
  spec = toyModel();
  function(spec, "add").symbols[0].max = -1;
  EXPECT_TRUE(mentions(errorOf(spec), "max is negative (-1)"));

  spec = toyModel();
  function(spec, "prefill").outputs[0].role = ParamRole::Tokens;
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[4] 'prefill': outputs[0] "
                           "'logits': role Tokens belongs to an input");
  spec = toyModel();
  function(spec, "prefill").outputs[0].dtype = ElementType::BF16;
  EXPECT_EQ(errorOf(spec), "t.lathe: functions[4] 'prefill': outputs[0] "
                           "'logits': role Logits needs a rank-2 F32 "
                           "parameter, not BF16 of rank 2");
  spec = toyModel();
  function(spec, "prefill").inputs[1].role = ParamRole::Tokens;
  EXPECT_TRUE(mentions(errorOf(spec), "a second parameter with role Tokens"));
  spec = toyModel();
  function(spec, "prefill").inputs[0].role = ParamRole::Generic;
  EXPECT_TRUE(mentions(errorOf(spec), "writes_kv_cache is set but no input "
                                      "has role Tokens"));
  spec = toyModel();
  spec.kv.reset();
  EXPECT_TRUE(mentions(errorOf(spec), "writes_kv_cache is set but the bundle "
                                      "has no kv_cache"));
  spec = toyModel();
  function(spec, "add").inputs[0].role = ParamRole(7);
  EXPECT_TRUE(mentions(errorOf(spec), "role 7 is not a ParamRole"));
  spec = toyModel();
  function(spec, "scale").name = "add";
  EXPECT_TRUE(mentions(errorOf(spec), "functions[2] 'add': another function "
                                      "has the same name"));
}

} // namespace

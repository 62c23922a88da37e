//===- TestBundle.h - bundles built in test code ---------------*- C++ -*-===//
//
// The runtime's tests build their bundles here with the flatc-generated
// builder, from a plain description (BundleSpec) that each test can change
// one field of, so that every loader rule is tested by breaking exactly it.
// The code is the hand-written kernel library of kernels/test_kernels.c.
// toyModel() is the bundle most tests start from; lathe-test-bundle writes
// it for the lit tests.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TESTS_UNIT_RUNTIME_TESTBUNDLE_H
#define LATHE_TESTS_UNIT_RUNTIME_TESTBUNDLE_H

#include "runtime/schema/bundle_generated.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lathe::rt::testing {

namespace fb = lathe::bundle;

/// An Expr as its postfix ops.
struct ExprSpec {
  std::vector<std::pair<fb::ExprOpKind, int64_t>> ops;
};
ExprSpec constant(int64_t value);
ExprSpec symbol(int64_t index);
ExprSpec binary(ExprSpec a, ExprSpec b, fb::ExprOpKind kind);
inline ExprSpec operator+(ExprSpec a, ExprSpec b) {
  return binary(std::move(a), std::move(b), fb::ExprOpKind::Add);
}
inline ExprSpec operator*(ExprSpec a, ExprSpec b) {
  return binary(std::move(a), std::move(b), fb::ExprOpKind::Mul);
}
inline ExprSpec ceilDiv(ExprSpec a, ExprSpec b) {
  return binary(std::move(a), std::move(b), fb::ExprOpKind::CeilDiv);
}

struct ParamSpec {
  std::string name;
  fb::ParamRole role = fb::ParamRole::Generic;
  fb::ElementType dtype = fb::ElementType::F32;
  std::vector<ExprSpec> shape;
};

struct BufferSpec {
  fb::BufferKind kind;
  uint32_t index = 0;
  uint64_t offset = 0;
};

struct StepSpec {
  uint32_t kernel = 0;
  std::vector<BufferSpec> buffers;
  std::vector<ExprSpec> scalars;
};

struct SymbolSpec {
  std::string name;
  uint32_t input = 0, dim = 0;
  int64_t max = 0;
};

struct FunctionSpec {
  std::string name;
  std::vector<SymbolSpec> symbols;
  std::vector<ParamSpec> inputs, outputs;
  std::vector<StepSpec> steps;
  uint64_t arenaBytes = 0;
  bool writesKVCache = false;
};

/// A kernel and its code on every target: `symbol` and `grid`.
struct KernelSpec {
  std::string name, family;
  uint32_t buffers = 0, scalars = 0;
  std::string symbol;
  std::vector<ExprSpec> grid;
};

struct TargetSpec {
  std::string name = "cpu";
  std::string cpu = "x86-64";
  std::vector<std::string> features;
  std::vector<uint8_t> code;
  /// Per kernel index, a symbol other than the kernel's.
  std::vector<std::pair<uint32_t, std::string>> symbolOverrides;
  /// Code for only the first this many kernels.
  std::optional<uint32_t> kernelCount;
};

struct WeightFileSpec {
  std::string path;
  uint64_t size = 0, headerSize = 0, headerChecksum = 0;
};

struct WeightSpec {
  std::string name;
  uint32_t file = 0;
  uint64_t offset = 0;
  fb::ElementType dtype = fb::ElementType::F32;
  std::vector<int64_t> shape;
};

struct ConstantSpec {
  std::string name;
  fb::ElementType dtype = fb::ElementType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

struct KVSpec {
  uint32_t layers = 1, width = 2;
  fb::ElementType dtype = fb::ElementType::F32;
  std::optional<int64_t> maxBatch, maxSeqLen;
  std::optional<uint64_t> bytesPerToken;
};

struct BundleSpec {
  uint32_t version = 1;
  std::string producer = "lathe tests";
  bool hasConfig = true;
  std::string modelType = "toy";
  int64_t vocab = 16, hidden = 4, layers = 1, maxPositions = 8;
  int64_t maxBatch = 2, maxSeqLen = 8;
  std::vector<WeightFileSpec> files;
  std::vector<WeightSpec> weights;
  std::vector<std::pair<std::string, std::vector<uint32_t>>> tables;
  std::vector<ConstantSpec> constants;
  std::vector<KernelSpec> kernels;
  std::vector<TargetSpec> targets;
  std::vector<FunctionSpec> functions;
  std::optional<KVSpec> kv;
};

/// The FlatBuffer of `spec`.
std::vector<uint8_t> buildFlatbuffer(const BundleSpec &spec);

/// A bundle file: `flatbuffer`, then (when `blob` is given) zero padding to
/// 64 bytes and the blob, then the trailer.
std::vector<uint8_t> assembleBundle(const std::vector<uint8_t> &flatbuffer,
                                    const std::vector<uint8_t> *blob = nullptr);

/// buildFlatbuffer then assembleBundle.
std::vector<uint8_t> buildBundle(const BundleSpec &spec,
                                 const std::vector<uint8_t> *blob = nullptr);

std::vector<uint8_t> readBytes(const std::string &path);
void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);

/// The bytes of the test kernel library (and of its variant that claims
/// CPU kernel ABI version 99).
const std::vector<uint8_t> &testKernels();
const std::vector<uint8_t> &testKernelsAbi99();

/// The toy model's weight file: a 16-byte header, then the weights (f32
/// [4] each): w0 = {1, 2, 3, 4}, w1 = {10, 20, 30, 40}, w2 = {100, 200,
/// 300, 400}.
std::vector<uint8_t> toyWeightFile();
/// The same weights as an embedded blob (each at a multiple of 64).
std::vector<uint8_t> toyWeightBlob();

/// The toy model's vocabulary, KV cache rows and positions.
constexpr int64_t kToyVocab = 16, kToyMaxBatch = 2, kToyMaxSeqLen = 8;

/// The toy model, its weights in `weightPath` (relative to the bundle's
/// directory) or, with an empty path, embedded. Kernels: 0 lt_add,
/// 1 lt_table_sum, 2 lt_scale2d, 3 lt_count, 4 lt_toy_lm. Functions:
///  - add(a f32 [n], b f32 [n]) -> (out f32 [n]), out = (a + b) + b
///    through the arena;
///  - weights(x f32 [4]) -> (y = x + w0, z = w0 + w1 + w2 (a weight
///    table), k = x + c0 (a constant {1, 2, 3, 4}));
///  - scale(m f32 [rows, cols]) -> (out = 3m + row index), a 2-D grid;
///  - count(shape f32 [gz, gy, gx]) -> (counters i32 [gz, gy, gx]): how
///    often each workgroup of a [gx, gy, gz] grid ran;
///  - prefill / decode (tokens, positions) -> logits, lt_toy_lm over KV
///    layer 0, writing the cache.
BundleSpec toyModel(const std::string &weightPath = "weights.bin");

/// What lt_toy_lm would choose next for a row whose cache holds `tokens`
/// (greedy): the expected tokens of generation.
int64_t toyNextToken(const std::vector<int64_t> &tokens);

} // namespace lathe::rt::testing

#endif // LATHE_TESTS_UNIT_RUNTIME_TESTBUNDLE_H

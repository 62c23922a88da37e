//===- TestBundle.cpp - bundles built in test code ------------------------===//

#include "tests/unit/runtime/TestBundle.h"

#include "runtime/bundle/Format.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

using namespace lathe::rt;
using namespace lathe::rt::testing;

ExprSpec lathe::rt::testing::constant(int64_t value) {
  return {{{fb::ExprOpKind::Const, value}}};
}

ExprSpec lathe::rt::testing::symbol(int64_t index) {
  return {{{fb::ExprOpKind::Symbol, index}}};
}

ExprSpec lathe::rt::testing::binary(ExprSpec a, ExprSpec b,
                                    fb::ExprOpKind kind) {
  ExprSpec out = std::move(a);
  out.ops.insert(out.ops.end(), b.ops.begin(), b.ops.end());
  out.ops.push_back({kind, 0});
  return out;
}

namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

Offset<fb::Expr> buildExpr(FlatBufferBuilder &builder, const ExprSpec &expr) {
  std::vector<fb::ExprOp> ops;
  for (const auto &[kind, value] : expr.ops)
    ops.emplace_back(kind, value);
  return fb::CreateExprDirect(builder, &ops);
}

std::vector<Offset<fb::Expr>> buildExprs(FlatBufferBuilder &builder,
                                         const std::vector<ExprSpec> &exprs) {
  std::vector<Offset<fb::Expr>> out;
  for (const ExprSpec &expr : exprs)
    out.push_back(buildExpr(builder, expr));
  return out;
}

std::vector<Offset<fb::Param>>
buildParams(FlatBufferBuilder &builder, const std::vector<ParamSpec> &params) {
  std::vector<Offset<fb::Param>> out;
  for (const ParamSpec &param : params) {
    auto shape = buildExprs(builder, param.shape);
    out.push_back(fb::CreateParamDirect(builder, param.name.c_str(), param.role,
                                        param.dtype, &shape));
  }
  return out;
}

Offset<fb::Function> buildFunction(FlatBufferBuilder &builder,
                                   const FunctionSpec &function) {
  std::vector<Offset<fb::FunctionSymbol>> symbols;
  for (const SymbolSpec &symbol : function.symbols)
    symbols.push_back(fb::CreateFunctionSymbolDirect(
        builder, symbol.name.c_str(), symbol.input, symbol.dim, symbol.max));
  auto inputs = buildParams(builder, function.inputs);
  auto outputs = buildParams(builder, function.outputs);
  std::vector<Offset<fb::Step>> steps;
  for (const StepSpec &step : function.steps) {
    std::vector<Offset<fb::BufferRef>> buffers;
    for (const BufferSpec &buffer : step.buffers)
      buffers.push_back(fb::CreateBufferRef(builder, buffer.kind, buffer.index,
                                            buffer.offset));
    auto scalars = buildExprs(builder, step.scalars);
    steps.push_back(
        fb::CreateStepDirect(builder, step.kernel, &buffers, &scalars));
  }
  return fb::CreateFunctionDirect(builder, function.name.c_str(), &symbols,
                                  &inputs, &outputs, &steps,
                                  function.arenaBytes, function.writesKVCache);
}

std::vector<uint8_t> readAll(const char *path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(std::string("cannot read ") + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void putFloats(std::vector<uint8_t> &bytes, size_t offset,
               const std::vector<float> &values) {
  std::memcpy(bytes.data() + offset, values.data(),
              values.size() * sizeof(float));
}

const std::vector<float> toyWeights[3] = {
    {1, 2, 3, 4}, {10, 20, 30, 40}, {100, 200, 300, 400}};

} // namespace

std::vector<uint8_t>
lathe::rt::testing::buildFlatbuffer(const BundleSpec &spec) {
  FlatBufferBuilder builder;
  Offset<fb::ModelConfig> config = 0;
  if (spec.hasConfig)
    config = fb::CreateModelConfigDirect(
        builder, spec.modelType.c_str(), spec.vocab, spec.hidden, spec.layers,
        spec.maxPositions, spec.maxBatch, spec.maxSeqLen);

  std::vector<Offset<fb::WeightFile>> files;
  for (const WeightFileSpec &file : spec.files)
    files.push_back(
        fb::CreateWeightFile(builder, builder.CreateString(file.path),
                             file.size, file.headerSize, file.headerChecksum));
  std::vector<Offset<fb::Weight>> weights;
  for (const WeightSpec &weight : spec.weights)
    weights.push_back(fb::CreateWeightDirect(builder, weight.name.c_str(),
                                             weight.file, weight.offset,
                                             weight.dtype, &weight.shape));
  std::vector<Offset<fb::WeightTable>> tables;
  for (const auto &[name, members] : spec.tables)
    tables.push_back(
        fb::CreateWeightTableDirect(builder, name.c_str(), &members));
  std::vector<Offset<fb::Constant>> constants;
  for (const ConstantSpec &constant : spec.constants)
    constants.push_back(
        fb::CreateConstantDirect(builder, constant.name.c_str(), constant.dtype,
                                 &constant.shape, &constant.data));

  std::vector<Offset<fb::KernelInfo>> kernels;
  for (const KernelSpec &kernel : spec.kernels)
    kernels.push_back(fb::CreateKernelInfoDirect(
        builder, kernel.name.c_str(), kernel.family.c_str(), kernel.buffers,
        kernel.scalars));
  std::vector<Offset<fb::Target>> targets;
  for (const TargetSpec &target : spec.targets) {
    std::vector<Offset<fb::TargetKernel>> code;
    uint32_t count = target.kernelCount.value_or(uint32_t(spec.kernels.size()));
    for (uint32_t k = 0; k < count && k < spec.kernels.size(); ++k) {
      std::string symbol = spec.kernels[k].symbol;
      for (const auto &[index, name] : target.symbolOverrides)
        if (index == k)
          symbol = name;
      auto grid = buildExprs(builder, spec.kernels[k].grid);
      code.push_back(fb::CreateTargetKernelDirect(builder, symbol.c_str(),
                                                  &grid, 0, 0, 0));
    }
    std::vector<Offset<flatbuffers::String>> features;
    for (const std::string &feature : target.features)
      features.push_back(builder.CreateString(feature));
    targets.push_back(fb::CreateTargetDirect(builder, target.name.c_str(),
                                             target.cpu.c_str(), &features,
                                             &target.code, &code));
  }
  std::vector<Offset<fb::Function>> functions;
  for (const FunctionSpec &function : spec.functions)
    functions.push_back(buildFunction(builder, function));

  Offset<fb::KVCacheLayout> kv = 0;
  if (spec.kv) {
    uint64_t size = spec.kv->dtype == fb::ElementType::F32   ? 4
                    : spec.kv->dtype == fb::ElementType::I64 ? 8
                                                             : 2;
    kv = fb::CreateKVCacheLayout(
        builder, spec.kv->layers, spec.kv->width, spec.kv->dtype,
        spec.kv->maxBatch.value_or(spec.maxBatch),
        spec.kv->maxSeqLen.value_or(spec.maxSeqLen),
        spec.kv->bytesPerToken.value_or(uint64_t(spec.kv->layers) *
                                        spec.kv->width * size));
  }
  auto root = fb::CreateBundleDirect(
      builder, spec.version, spec.producer.c_str(), config, &files, &weights,
      &tables, &constants, &kernels, &targets, &functions, kv);
  builder.Finish(root, kBundleIdentifier);
  return std::vector<uint8_t>(builder.GetBufferPointer(),
                              builder.GetBufferPointer() + builder.GetSize());
}

std::vector<uint8_t>
lathe::rt::testing::assembleBundle(const std::vector<uint8_t> &flatbuffer,
                                   const std::vector<uint8_t> *blob) {
  std::vector<uint8_t> file = flatbuffer;
  BundleTrailer trailer;
  trailer.flatbufferSize = flatbuffer.size();
  trailer.checksum = fnv1a64(flatbuffer.data(), flatbuffer.size());
  std::memcpy(trailer.magic, kTrailerMagic, sizeof(trailer.magic));
  if (blob) {
    file.resize((file.size() + kBlobAlignment - 1) / kBlobAlignment *
                kBlobAlignment);
    trailer.blobOffset = file.size();
    file.insert(file.end(), blob->begin(), blob->end());
  }
  const auto *bytes = reinterpret_cast<const uint8_t *>(&trailer);
  file.insert(file.end(), bytes, bytes + sizeof(trailer));
  return file;
}

std::vector<uint8_t>
lathe::rt::testing::buildBundle(const BundleSpec &spec,
                                const std::vector<uint8_t> *blob) {
  return assembleBundle(buildFlatbuffer(spec), blob);
}

std::vector<uint8_t> lathe::rt::testing::readBytes(const std::string &path) {
  return readAll(path.c_str());
}

void lathe::rt::testing::writeBytes(const std::string &path,
                                    const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            std::streamsize(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

const std::vector<uint8_t> &lathe::rt::testing::testKernels() {
  static const std::vector<uint8_t> bytes = readAll(LATHE_TEST_KERNELS);
  return bytes;
}

const std::vector<uint8_t> &lathe::rt::testing::testKernelsAbi99() {
  static const std::vector<uint8_t> bytes = readAll(LATHE_TEST_KERNELS_ABI99);
  return bytes;
}

std::vector<uint8_t> lathe::rt::testing::toyWeightFile() {
  std::vector<uint8_t> bytes(64, 0);
  std::memcpy(bytes.data(), "LATHTEST", 8);
  for (int i = 0; i < 3; ++i)
    putFloats(bytes, 16 + 16 * size_t(i), toyWeights[i]);
  return bytes;
}

std::vector<uint8_t> lathe::rt::testing::toyWeightBlob() {
  std::vector<uint8_t> bytes(144, 0);
  for (int i = 0; i < 3; ++i)
    putFloats(bytes, 64 * size_t(i), toyWeights[i]);
  return bytes;
}

BundleSpec lathe::rt::testing::toyModel(const std::string &weightPath) {
  using K = fb::BufferKind;
  using fb::ElementType;
  using fb::ParamRole;
  BundleSpec spec;
  spec.vocab = kToyVocab;
  spec.maxBatch = kToyMaxBatch;
  spec.maxSeqLen = kToyMaxSeqLen;

  if (weightPath.empty()) {
    spec.files.push_back({"", toyWeightBlob().size(), 0, 0});
  } else {
    std::vector<uint8_t> file = toyWeightFile();
    spec.files.push_back(
        {weightPath, file.size(), 16, fnv1a64(file.data(), 16)});
  }
  for (uint32_t i = 0; i < 3; ++i)
    spec.weights.push_back({"w" + std::to_string(i),
                            0,
                            weightPath.empty() ? 64u * i : 16u + 16u * i,
                            ElementType::F32,
                            {4}});
  spec.tables.push_back({"experts", {0, 1, 2}});
  std::vector<uint8_t> c0(16);
  const float c0Values[] = {1, 2, 3, 4};
  std::memcpy(c0.data(), c0Values, sizeof(c0Values));
  spec.constants.push_back({"c0", ElementType::F32, {4}, c0});

  spec.kernels = {
      {"add",
       "elementwise",
       3,
       1,
       "lt_add",
       {ceilDiv(symbol(0), constant(4)), constant(1), constant(1)}},
      {"table_sum",
       "reduce",
       2,
       2,
       "lt_table_sum",
       {symbol(0), constant(1), constant(1)}},
      {"scale2d",
       "elementwise",
       2,
       3,
       "lt_scale2d",
       {symbol(1), symbol(0), constant(1)}},
      {"count", "test", 1, 3, "lt_count", {symbol(0), symbol(1), symbol(2)}},
      {"toy_lm",
       "toy_lm",
       4,
       4,
       "lt_toy_lm",
       {symbol(0), constant(1), constant(1)}},
  };
  TargetSpec cpu;
  cpu.code = testKernels();
  spec.targets.push_back(cpu);

  FunctionSpec add;
  add.name = "add";
  add.symbols = {{"n", 0, 0, 64}};
  add.inputs = {{"a", ParamRole::Generic, ElementType::F32, {symbol(0)}},
                {"b", ParamRole::Generic, ElementType::F32, {symbol(0)}}};
  add.outputs = {{"out", ParamRole::Generic, ElementType::F32, {symbol(0)}}};
  add.steps = {
      {0, {{K::Input, 0}, {K::Input, 1}, {K::Arena, 0, 64}}, {symbol(0)}},
      {0, {{K::Arena, 0, 64}, {K::Input, 1}, {K::Output, 0}}, {symbol(0)}}};
  add.arenaBytes = 64 + 64 * 4;
  spec.functions.push_back(add);

  FunctionSpec weights;
  weights.name = "weights";
  weights.inputs = {{"x", ParamRole::Generic, ElementType::F32, {constant(4)}}};
  for (const char *name : {"y", "z", "k"})
    weights.outputs.push_back(
        {name, ParamRole::Generic, ElementType::F32, {constant(4)}});
  weights.steps = {
      {0, {{K::Input, 0}, {K::Weight, 0}, {K::Output, 0}}, {constant(4)}},
      {1, {{K::WeightTable, 0}, {K::Output, 1}}, {constant(4), constant(3)}},
      {0, {{K::Input, 0}, {K::Constant, 0}, {K::Output, 2}}, {constant(4)}}};
  spec.functions.push_back(weights);

  FunctionSpec scale;
  scale.name = "scale";
  scale.symbols = {{"rows", 0, 0, 8}, {"cols", 0, 1, 8}};
  scale.inputs = {
      {"m", ParamRole::Generic, ElementType::F32, {symbol(0), symbol(1)}}};
  scale.outputs = {
      {"out", ParamRole::Generic, ElementType::F32, {symbol(0), symbol(1)}}};
  scale.steps = {{2,
                  {{K::Input, 0}, {K::Output, 0}},
                  {symbol(0), symbol(1), constant(3)}}};
  spec.functions.push_back(scale);

  FunctionSpec count;
  count.name = "count";
  count.symbols = {{"gz", 0, 0, 64}, {"gy", 0, 1, 64}, {"gx", 0, 2, 64}};
  count.inputs = {{"shape",
                   ParamRole::Generic,
                   ElementType::F32,
                   {symbol(0), symbol(1), symbol(2)}}};
  count.outputs = {{"counters",
                    ParamRole::Generic,
                    ElementType::I32,
                    {symbol(0), symbol(1), symbol(2)}}};
  count.steps = {{3, {{K::Output, 0}}, {symbol(2), symbol(1), symbol(0)}}};
  spec.functions.push_back(count);

  for (const char *name : {"prefill", "decode"}) {
    FunctionSpec lm;
    lm.name = name;
    bool decode = std::string(name) == "decode";
    lm.symbols = {{"batch", 0, 0, kToyMaxBatch},
                  {"tokens", 0, 1, decode ? 1 : kToyMaxSeqLen}};
    lm.inputs = {
        {"tokens", ParamRole::Tokens, ElementType::I32, {symbol(0), symbol(1)}},
        {"positions",
         ParamRole::Positions,
         ElementType::I32,
         {symbol(0), symbol(1)}}};
    lm.outputs = {{"logits",
                   ParamRole::Logits,
                   ElementType::F32,
                   {symbol(0), constant(kToyVocab)}}};
    lm.steps = {
        {4,
         {{K::Input, 0}, {K::Input, 1}, {K::KVCache, 0}, {K::Output, 0}},
         {symbol(0), symbol(1), constant(kToyMaxSeqLen), constant(kToyVocab)}}};
    lm.writesKVCache = true;
    spec.functions.push_back(lm);
  }
  spec.kv = KVSpec();
  return spec;
}

int64_t lathe::rt::testing::toyNextToken(const std::vector<int64_t> &tokens) {
  int64_t sum = 0;
  for (int64_t token : tokens)
    sum += token;
  int64_t last = int64_t(tokens.size()) - 1;
  return (3 * sum + last + 1) % kToyVocab;
}

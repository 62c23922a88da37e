//===- BundleWriter.cpp - phase `kernels` to a bundle file ----------------===//
//
// The kernels-phase module says everything the bundle holds: entries whose
// launches become step lists, lathe.weight / lathe.weight_table /
// lathe.rope_table / lathe.kv_cache ops that become the bundle's tables, and
// target modules whose kernels are compiled here. docs/bundle-format.md is
// the format; this file only translates.
//
//===----------------------------------------------------------------------===//

#include "compiler/BundleWriter.h"

#include "compiler/LowerToKernels.h"
#include "dialects/lathe/IR/LatheOps.h"
#include "passes/Passes.h"
#include "runtime/bundle/Format.h"
#include "runtime/schema/bundle_generated.h"
#include "runtime/support/Safetensors.h"
#include "targets/cpu/CpuTarget.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace lathe;
namespace fb = lathe::bundle;
using llvm::formatv;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The message of an op's error, for errors that leave MLIR.
std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName();
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    os << " (" << loc.getName() << ")";
  return text;
}

FailureOr<fb::ElementType> elementType(Type type) {
  if (type.isF32())
    return fb::ElementType::F32;
  if (type.isF16())
    return fb::ElementType::F16;
  if (type.isBF16())
    return fb::ElementType::BF16;
  if (isa<Float8E4M3FNType>(type))
    return fb::ElementType::F8E4M3FN;
  if (isa<Float8E5M2Type>(type))
    return fb::ElementType::F8E5M2;
  if (type.isInteger(32))
    return fb::ElementType::I32;
  if (type.isInteger(64))
    return fb::ElementType::I64;
  if (type.isInteger(8))
    return fb::ElementType::U8;
  if (type.isF64())
    return fb::ElementType::F64;
  return failure();
}

int64_t byteSize(MemRefType type) {
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

//===----------------------------------------------------------------------===//
// Integer expressions
//===----------------------------------------------------------------------===//

using Program = std::vector<fb::ExprOp>;

void appendAffine(AffineExpr expr, ArrayRef<Program> symbols,
                  Program &program) {
  switch (expr.getKind()) {
  case AffineExprKind::Constant:
    program.push_back({fb::ExprOpKind::Const,
                       cast<AffineConstantExpr>(expr).getValue()});
    return;
  case AffineExprKind::SymbolId:
    llvm::append_range(program,
                       symbols[cast<AffineSymbolExpr>(expr).getPosition()]);
    return;
  case AffineExprKind::DimId:
    llvm_unreachable("kernel and entry maps have no dims");
  default:
    break;
  }
  auto binary = cast<AffineBinaryOpExpr>(expr);
  appendAffine(binary.getLHS(), symbols, program);
  appendAffine(binary.getRHS(), symbols, program);
  fb::ExprOpKind kind = fb::ExprOpKind::Add;
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    kind = fb::ExprOpKind::Add;
    break;
  case AffineExprKind::Mul:
    kind = fb::ExprOpKind::Mul;
    break;
  case AffineExprKind::FloorDiv:
    kind = fb::ExprOpKind::FloorDiv;
    break;
  case AffineExprKind::CeilDiv:
    kind = fb::ExprOpKind::CeilDiv;
    break;
  case AffineExprKind::Mod:
    kind = fb::ExprOpKind::Mod;
    break;
  default:
    llvm_unreachable("not a binary affine expression");
  }
  program.push_back({kind, 0});
}

/// Symbol i of a map as the program that pushes symbol i.
SmallVector<Program> symbolPrograms(unsigned count) {
  SmallVector<Program> programs;
  for (unsigned i = 0; i < count; ++i)
    programs.push_back({{fb::ExprOpKind::Symbol, static_cast<int64_t>(i)}});
  return programs;
}

/// An entry's index values as programs over its symbols.
class EntryExprs {
public:
  explicit EntryExprs(func::FuncOp entry) {
    if (auto symbols = entry->getAttrOfType<ArrayAttr>(kSymbolsAttrName))
      for (auto [i, attr] : llvm::enumerate(symbols)) {
        auto dict = cast<DictionaryAttr>(attr);
        int64_t input = dict.getAs<IntegerAttr>("input").getInt();
        int64_t dim = dict.getAs<IntegerAttr>("dim").getInt();
        bySource[{input, dim}] = i;
      }
  }

  FailureOr<Program> program(Value value) {
    Program program;
    if (failed(append(value, program)))
      return failure();
    return program;
  }

private:
  LogicalResult append(Value value, Program &program) {
    Operation *op = value.getDefiningOp();
    if (auto constant = dyn_cast_or_null<arith::ConstantIndexOp>(op)) {
      program.push_back({fb::ExprOpKind::Const, constant.value()});
      return success();
    }
    if (auto dim = dyn_cast_or_null<memref::DimOp>(op)) {
      auto arg = dyn_cast<BlockArgument>(dim.getSource());
      std::optional<int64_t> index = dim.getConstantIndex();
      auto it = arg && index ? bySource.find({arg.getArgNumber(), *index})
                             : bySource.end();
      if (it == bySource.end())
        return dim.emitOpError() << "is not one of the entry's symbols ("
                                 << kSymbolsAttrName << ")";
      program.push_back(
          {fb::ExprOpKind::Symbol, static_cast<int64_t>(it->second)});
      return success();
    }
    if (auto apply = dyn_cast_or_null<affine::AffineApplyOp>(op)) {
      SmallVector<Program> operands;
      for (Value operand : apply.getMapOperands()) {
        FailureOr<Program> p = this->program(operand);
        if (failed(p))
          return failure();
        operands.push_back(std::move(*p));
      }
      AffineMap map = apply.getAffineMap();
      // Dims and symbols alike are operands, dims first.
      AffineExpr expr = map.getResult(0).shiftSymbols(map.getNumSymbols(),
                                                      map.getNumDims());
      expr = expr.replaceDims(llvm::to_vector(llvm::map_range(
          llvm::seq<unsigned>(0, map.getNumDims()), [&](unsigned i) {
            return getAffineSymbolExpr(i, apply.getContext());
          })));
      appendAffine(expr, operands, program);
      return success();
    }
    if (op)
      return op->emitOpError()
             << "computes a launch scalar, which must be a constant, a "
                "memref.dim of an entry argument or an affine.apply of those";
    return emitError(value.getLoc())
           << "a launch scalar must be computed from the entry's arguments";
  }

  std::map<std::pair<int64_t, int64_t>, unsigned> bySource;
};

//===----------------------------------------------------------------------===//
// Weight files
//===----------------------------------------------------------------------===//

/// `path` relative to `dir`, both made absolute and free of symlinks where
/// they exist.
std::string relativePath(StringRef dir, StringRef path) {
  SmallString<256> from, to;
  if (llvm::sys::fs::real_path(dir, from))
    from = dir;
  if (llvm::sys::fs::real_path(path, to))
    to = path;
  SmallVector<StringRef> fromParts(llvm::sys::path::begin(from),
                                   llvm::sys::path::end(from));
  SmallVector<StringRef> toParts(llvm::sys::path::begin(to),
                                 llvm::sys::path::end(to));
  size_t common = 0;
  while (common < fromParts.size() && common < toParts.size() &&
         fromParts[common] == toParts[common])
    ++common;
  SmallString<256> result;
  for (size_t i = common; i < fromParts.size(); ++i)
    llvm::sys::path::append(result, "..");
  for (size_t i = common; i < toParts.size(); ++i)
    llvm::sys::path::append(result, toParts[i]);
  return std::string(result);
}

struct SourceFile {
  std::string name; // as lathe.weight names it
  rt::SafetensorsFile file;
};

//===----------------------------------------------------------------------===//
// The writer
//===----------------------------------------------------------------------===//

class Writer {
public:
  Writer(ModuleOp module, const BundleOptions &options)
      : module(module), options(options) {}

  llvm::Error run();

private:
  void progress(const std::string &line) {
    if (options.progress)
      options.progress(line);
  }
  llvm::Error collectKernels();
  llvm::Error compileTargets();
  llvm::Error addWeight(WeightOp op, uint32_t &index);
  llvm::Error addFunction(func::FuncOp entry);
  llvm::Error addKVCache();
  /// What a BufferRef says.
  struct Ref {
    fb::BufferKind kind;
    uint32_t index = 0;
    uint64_t offset = 0;
  };
  FailureOr<Ref> bufferRef(Value buffer, func::FuncOp entry);
  flatbuffers::Offset<fb::Expr> expr(const Program &program) {
    return fb::CreateExprDirect(builder, &program);
  }
  llvm::Error finish();

  ModuleOp module;
  const BundleOptions &options;
  flatbuffers::FlatBufferBuilder builder{1 << 20};

  // Kernels, in the order of the first target module.
  struct Kernel {
    std::string name;
    KernelAttr attr;
  };
  std::vector<Kernel> kernels;
  llvm::StringMap<uint32_t> kernelIndex;
  std::vector<flatbuffers::Offset<fb::Target>> targets;

  std::vector<SourceFile> files;
  llvm::StringMap<uint32_t> fileIndex;
  std::vector<flatbuffers::Offset<fb::Weight>> weights;
  llvm::StringMap<uint32_t> weightIndex;
  /// With --embed-weights: the blob, and where each weight's data is.
  std::vector<char> blob;
  std::vector<flatbuffers::Offset<fb::WeightTable>> weightTables;
  std::map<std::vector<uint32_t>, uint32_t> weightTableIndex;
  std::vector<flatbuffers::Offset<fb::Constant>> constants;
  DenseMap<std::pair<Attribute, Type>, uint32_t> ropeTableIndex;
  std::vector<flatbuffers::Offset<fb::Function>> functions;
  /// Layer -> its cache type, across entries.
  std::map<int64_t, MemRefType> cacheLayers;
};

llvm::Error Writer::collectKernels() {
  SmallVector<ModuleOp> targetModules = getTargetModules(module);
  if (targetModules.empty())
    return makeError("the module has no target module: compile with "
                     "--target (phase kernels makes them)");
  for (auto func : targetModules.front().getOps<func::FuncOp>()) {
    KernelAttr attr = getKernelAttr(func);
    if (!attr)
      continue;
    kernelIndex[func.getSymName()] = kernels.size();
    kernels.push_back({func.getSymName().str(), attr});
  }
  for (ModuleOp target : llvm::drop_begin(targetModules)) {
    size_t count = llvm::count_if(target.getOps<func::FuncOp>(),
                                  [](func::FuncOp f) { return getKernelAttr(f); });
    if (count != kernels.size())
      return makeError(formatv("target modules disagree on their kernels "
                               "({0} and {1})",
                               kernels.size(), count));
  }
  return llvm::Error::success();
}

llvm::Error Writer::compileTargets() {
  for (ModuleOp target : getTargetModules(module)) {
    StringRef name = target->getAttrOfType<StringAttr>(kTargetAttrName);
    // Each target's kernels, in the bundle's kernel order.
    std::vector<flatbuffers::Offset<fb::TargetKernel>> targetKernels;
    for (const Kernel &kernel : kernels) {
      auto func = target.lookupSymbol<func::FuncOp>(kernel.name);
      if (!func)
        return makeError(formatv("target {0} has no kernel {1}", name,
                                 kernel.name));
      AffineMap grid = getKernelAttr(func).getGrid().getValue();
      SmallVector<Program> scalars = symbolPrograms(grid.getNumSymbols());
      std::vector<flatbuffers::Offset<fb::Expr>> gridExprs;
      for (AffineExpr count : grid.getResults()) {
        Program program;
        appendAffine(count, scalars, program);
        gridExprs.push_back(expr(program));
      }
      targetKernels.push_back(fb::CreateTargetKernelDirect(
          builder, kernel.name.c_str(), &gridExprs));
    }
    if (name != "cpu")
      return makeError(formatv("target {0}: this version of lathe generates "
                               "code for the cpu target only",
                               name));
    progress(formatv("compiling {0} kernels for the CPU", kernels.size()).str());
    llvm::Expected<cpu::CpuObject> object = cpu::compileCpuModule(target);
    if (!object)
      return object.takeError();
    std::vector<flatbuffers::Offset<flatbuffers::String>> features;
    for (const std::string &feature : object->features)
      features.push_back(builder.CreateString(feature));
    std::vector<uint8_t> code(object->sharedObject.begin(),
                              object->sharedObject.end());
    targets.push_back(fb::CreateTargetDirect(builder, "cpu",
                                             object->cpu.c_str(), &features,
                                             &code, &targetKernels));
  }
  return llvm::Error::success();
}

llvm::Error Writer::addWeight(WeightOp op, uint32_t &index) {
  StringRef tensor = op.getTensorName();
  auto known = weightIndex.find(tensor);
  if (known != weightIndex.end()) {
    index = known->second;
    return llvm::Error::success();
  }
  StringRef fileName = op.getFile();
  auto fileIt = fileIndex.find(fileName);
  if (fileIt == fileIndex.end()) {
    SmallString<256> path(options.weightsDir);
    llvm::sys::path::append(path, fileName);
    rt::Expected<rt::SafetensorsFile> file =
        rt::SafetensorsFile::open(std::string(path));
    if (!file)
      return makeError(file.status().message());
    fileIt = fileIndex.insert({fileName, files.size()}).first;
    files.push_back({fileName.str(), std::move(*file)});
  }
  const SourceFile &source = files[fileIt->second];
  auto type = cast<MemRefType>(op.getType());
  FailureOr<fb::ElementType> dtype = elementType(type.getElementType());
  const rt::TensorEntry *entry = source.file.header().find(tensor.str());
  uint64_t offset = op.getOffset(), bytes = byteSize(type);
  if (failed(dtype) || !entry || entry->dataBegin != offset ||
      entry->dataEnd - entry->dataBegin != bytes ||
      entry->shape != std::vector<int64_t>(type.getShape().begin(),
                                           type.getShape().end()))
    return makeError(formatv("{0}: tensor '{1}' is not at offset {2} with "
                             "the shape and dtype of {3} (was the checkpoint "
                             "changed after import?)",
                             source.file.path(), tensor, offset, type));

  uint32_t file = fileIt->second;
  if (options.embedWeights) {
    blob.resize(llvm::alignTo(blob.size(), rt::kBlobAlignment));
    offset = blob.size();
    const uint8_t *data = source.file.data(*entry);
    blob.insert(blob.end(), data, data + bytes);
    file = 0;
  }
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  index = weights.size();
  weightIndex[tensor] = index;
  weights.push_back(fb::CreateWeightDirect(builder, tensor.str().c_str(), file,
                                           offset, *dtype, &shape));
  return llvm::Error::success();
}

/// The RoPE rotation of every position (lathe.rope_table's definition).
std::vector<uint8_t> ropeTableData(RopeTableOp op) {
  MemRefType type = op.getType();
  const int64_t rows = type.getDimSize(0), dims = type.getDimSize(2);
  SmallVector<double> freq = op.getRope().getFrequencies(dims);
  std::vector<float> table(rows * 2 * dims);
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t i = 0; i < dims / 2; ++i) {
      double angle = static_cast<double>(p) * freq[i];
      float c = static_cast<float>(std::cos(angle));
      float s = static_cast<float>(std::sin(angle));
      float *row = &table[p * 2 * dims];
      row[2 * i] = row[2 * i + 1] = c;
      row[dims + 2 * i] = -s;
      row[dims + 2 * i + 1] = s;
    }
  const auto *bytes = reinterpret_cast<const uint8_t *>(table.data());
  return std::vector<uint8_t>(bytes, bytes + table.size() * sizeof(float));
}

FailureOr<Writer::Ref> Writer::bufferRef(Value buffer, func::FuncOp entry) {
  auto ref = [](fb::BufferKind kind, uint32_t index, uint64_t offset = 0) {
    return Ref{kind, index, offset};
  };
  if (auto arg = dyn_cast<BlockArgument>(buffer)) {
    int64_t inputs = entry->getAttrOfType<IntegerAttr>(kNumInputsAttrName).getInt();
    int64_t n = arg.getArgNumber();
    return n < inputs ? ref(fb::BufferKind::Input, n)
                      : ref(fb::BufferKind::Output, n - inputs);
  }
  Operation *op = buffer.getDefiningOp();
  if (auto arena = dyn_cast<ArenaOp>(op))
    return ref(fb::BufferKind::Arena, 0, arena.getOffset());
  if (auto weight = dyn_cast<WeightOp>(op)) {
    uint32_t index;
    if (llvm::Error err = addWeight(weight, index)) {
      weight.emitOpError() << llvm::toString(std::move(err));
      return failure();
    }
    return ref(fb::BufferKind::Weight, index);
  }
  if (auto table = dyn_cast<WeightTableOp>(op)) {
    std::vector<uint32_t> entries;
    for (Value w : table.getWeights()) {
      FailureOr<Ref> entryRef = bufferRef(w, entry);
      if (failed(entryRef))
        return failure();
      entries.push_back(entryRef->index);
    }
    auto [it, inserted] =
        weightTableIndex.insert({entries, static_cast<uint32_t>(weightTables.size())});
    if (inserted)
      weightTables.push_back(fb::CreateWeightTableDirect(
          builder, formatv("table{0}", it->second).str().c_str(), &entries));
    return ref(fb::BufferKind::WeightTable, it->second);
  }
  if (auto cache = dyn_cast<KVCacheOp>(op)) {
    cacheLayers[cache.getLayer()] = cache.getType();
    return ref(fb::BufferKind::KVCache, cache.getLayer());
  }
  if (auto rope = dyn_cast<RopeTableOp>(op)) {
    auto key = std::make_pair(Attribute(rope.getRope()), Type(rope.getType()));
    auto [it, inserted] = ropeTableIndex.insert(
        {key, static_cast<uint32_t>(constants.size())});
    if (inserted) {
      std::vector<uint8_t> data = ropeTableData(rope);
      std::vector<int64_t> shape(rope.getType().getShape().begin(),
                                 rope.getType().getShape().end());
      builder.ForceVectorAlignment(data.size(), 1, 64);
      auto dataOffset = builder.CreateVector(data);
      auto name = builder.CreateString(formatv("rope_table{0}", it->second).str());
      auto shapeOffset = builder.CreateVector(shape);
      constants.push_back(fb::CreateConstant(builder, name, fb::ElementType::F32,
                                             shapeOffset, dataOffset));
    }
    return ref(fb::BufferKind::Constant, it->second);
  }
  return op->emitOpError() << "is passed to a launch, but only entry "
                              "arguments, lathe.arena, lathe.weight, "
                              "lathe.weight_table, lathe.kv_cache and "
                              "lathe.rope_table are buffers";
}

llvm::Error Writer::addFunction(func::FuncOp entry) {
  auto fail = [&](const llvm::Twine &what) {
    return makeError(formatv("entry @{0}: {1}", entry.getSymName(), what));
  };
  auto symbolsAttr = entry->getAttrOfType<ArrayAttr>(kSymbolsAttrName);
  auto numInputs = entry->getAttrOfType<IntegerAttr>(kNumInputsAttrName);
  auto arena = entry->getAttrOfType<IntegerAttr>(kArenaBytesAttrName);
  if (!symbolsAttr || !numInputs || !arena)
    return fail(formatv("needs {0}, {1} and {2} (phase kernels sets them)",
                        kSymbolsAttrName, kNumInputsAttrName,
                        kArenaBytesAttrName));

  std::vector<flatbuffers::Offset<fb::FunctionSymbol>> symbols;
  for (Attribute attr : symbolsAttr) {
    auto dict = cast<DictionaryAttr>(attr);
    symbols.push_back(fb::CreateFunctionSymbolDirect(
        builder, dict.getAs<StringAttr>("name").str().c_str(),
        dict.getAs<IntegerAttr>("input").getInt(),
        dict.getAs<IntegerAttr>("dim").getInt(),
        dict.getAs<IntegerAttr>("max").getInt()));
  }

  std::vector<flatbuffers::Offset<fb::Param>> inputs, outputs;
  SmallVector<Program> symbolRefs = symbolPrograms(symbolsAttr.size());
  for (BlockArgument arg : entry.getArguments()) {
    unsigned n = arg.getArgNumber();
    auto role = entry.getArgAttrOfType<StringAttr>(n, kRoleAttrName);
    auto shape = entry.getArgAttrOfType<AffineMapAttr>(n, kShapeAttrName);
    auto type = dyn_cast<MemRefType>(arg.getType());
    FailureOr<fb::ElementType> dtype = failure();
    if (type)
      dtype = elementType(type.getElementType());
    if (!role || !shape || failed(dtype))
      return fail(formatv("argument {0} needs {1} and {2} and a memref type",
                          n, kRoleAttrName, kShapeAttrName));
    fb::ParamRole paramRole = llvm::StringSwitch<fb::ParamRole>(role.getValue())
                                  .Case("tokens", fb::ParamRole::Tokens)
                                  .Case("positions", fb::ParamRole::Positions)
                                  .Case("logits", fb::ParamRole::Logits)
                                  .Default(fb::ParamRole::Generic);
    std::vector<flatbuffers::Offset<fb::Expr>> dims;
    for (AffineExpr dim : shape.getValue().getResults()) {
      Program program;
      appendAffine(dim, symbolRefs, program);
      dims.push_back(expr(program));
    }
    auto param = fb::CreateParamDirect(builder, role.getValue().str().c_str(),
                                       paramRole, *dtype, &dims);
    (static_cast<int64_t>(n) < numInputs.getInt() ? inputs : outputs)
        .push_back(param);
  }

  EntryExprs exprs(entry);
  std::vector<flatbuffers::Offset<fb::Step>> steps;
  for (auto launch : entry.getOps<LaunchOp>()) {
    auto kernel = kernelIndex.find(launch.getKernel());
    if (kernel == kernelIndex.end())
      return fail(formatv("launches unknown kernel @{0}", launch.getKernel()));
    std::vector<flatbuffers::Offset<fb::BufferRef>> buffers;
    for (Value buffer : launch.getBuffers()) {
      FailureOr<Ref> ref = bufferRef(buffer, entry);
      if (failed(ref))
        return fail(formatv("a launch of @{0} has a buffer the bundle cannot "
                            "name (see above)",
                            launch.getKernel()));
      buffers.push_back(
          fb::CreateBufferRef(builder, ref->kind, ref->index, ref->offset));
    }
    std::vector<flatbuffers::Offset<fb::Expr>> scalars;
    for (Value scalar : launch.getScalars()) {
      FailureOr<Program> program = exprs.program(scalar);
      if (failed(program))
        return fail(formatv("a launch of @{0} has a scalar the bundle cannot "
                            "express (see above)",
                            launch.getKernel()));
      scalars.push_back(expr(*program));
    }
    steps.push_back(fb::CreateStepDirect(builder, kernel->second, &buffers,
                                         &scalars));
  }
  auto name = entry->getAttrOfType<StringAttr>(kEntryAttrName);
  functions.push_back(fb::CreateFunctionDirect(
      builder, name.getValue().str().c_str(), &symbols, &inputs, &outputs,
      &steps, arena.getInt(), entry->hasAttr(kWritesKVCacheAttrName)));
  return llvm::Error::success();
}

llvm::Error Writer::finish() {
  auto limits = module->getAttrOfType<DictionaryAttr>(kLimitsAttrName);
  auto config = module->getAttrOfType<DictionaryAttr>("lathe.config");
  auto modelType = module->getAttrOfType<StringAttr>("lathe.model_type");
  if (!limits || !config || !modelType)
    return makeError("the module lacks lathe.limits, lathe.config or "
                     "lathe.model_type (the importer and "
                     "lathe-specialize-entries set them)");
  auto field = [](DictionaryAttr dict, StringRef name) -> int64_t {
    auto attr = dict.getAs<IntegerAttr>(name);
    return attr ? attr.getInt() : 0;
  };
  const int64_t maxBatch = field(limits, "max_batch"),
                maxSeqLen = field(limits, "max_seq_len");

  // The KV cache: every layer the entries name, of one width.
  uint32_t width = 0;
  for (auto [layer, type] : cacheLayers) {
    if (width && type.getDimSize(2) != width)
      return makeError("KV-cache layers differ in width");
    width = type.getDimSize(2);
  }
  if (!cacheLayers.empty() &&
      cacheLayers.rbegin()->first + 1 != static_cast<int64_t>(cacheLayers.size()))
    return makeError("KV-cache layers must be numbered 0..n-1");
  const uint32_t layers = cacheLayers.size();
  auto kvCache = fb::CreateKVCacheLayout(builder, layers, width,
                                         fb::ElementType::F32, maxBatch,
                                         maxSeqLen,
                                         uint64_t(layers) * width * 4);

  std::vector<flatbuffers::Offset<fb::WeightFile>> weightFiles;
  if (options.embedWeights) {
    weightFiles.push_back(
        fb::CreateWeightFileDirect(builder, "", blob.size(), 0, 0));
  } else {
    StringRef outputDir = llvm::sys::path::parent_path(options.outputPath);
    if (outputDir.empty())
      outputDir = ".";
    for (const SourceFile &source : files) {
      const rt::SafetensorsHeader &header = source.file.header();
      uint64_t headerSize = header.dataStart;
      weightFiles.push_back(fb::CreateWeightFileDirect(
          builder, relativePath(outputDir, source.file.path()).c_str(),
          header.fileSize, headerSize,
          rt::fnv1a64(source.file.file().data(), headerSize)));
    }
  }

  auto modelConfig = fb::CreateModelConfigDirect(
      builder, modelType.getValue().str().c_str(), field(config, "vocab_size"),
      field(config, "hidden_size"), field(config, "num_hidden_layers"),
      field(config, "max_position_embeddings"), maxBatch, maxSeqLen);
  std::vector<flatbuffers::Offset<fb::KernelInfo>> kernelInfos;
  for (const Kernel &kernel : kernels)
    kernelInfos.push_back(fb::CreateKernelInfoDirect(
        builder, kernel.name.c_str(), kernel.attr.getFamily().str().c_str(),
        kernel.attr.getBuffers(), kernel.attr.getScalars()));
  auto root = fb::CreateBundleDirect(
      builder, rt::kBundleVersion, options.producer.c_str(), modelConfig,
      &weightFiles, &weights, &weightTables, &constants, &kernelInfos,
      &targets, &functions, kvCache);
  builder.Finish(root, rt::kBundleIdentifier);

  // FlatBuffer, padding, blob, trailer.
  std::error_code ec;
  llvm::raw_fd_ostream os(options.outputPath, ec);
  if (ec)
    return makeError(formatv("{0}: cannot write: {1}", options.outputPath,
                             ec.message()));
  rt::BundleTrailer trailer;
  trailer.flatbufferSize = builder.GetSize();
  trailer.checksum = rt::fnv1a64(builder.GetBufferPointer(), builder.GetSize());
  std::memcpy(trailer.magic, rt::kTrailerMagic, sizeof(trailer.magic));
  os.write(reinterpret_cast<const char *>(builder.GetBufferPointer()),
           builder.GetSize());
  if (options.embedWeights) {
    uint64_t start = llvm::alignTo(builder.GetSize(), rt::kBlobAlignment);
    os.write_zeros(start - builder.GetSize());
    trailer.blobOffset = start;
    os.write(blob.data(), blob.size());
  }
  static_assert(llvm::endianness::native == llvm::endianness::little,
                "the trailer is written as the host lays it out");
  os.write(reinterpret_cast<const char *>(&trailer), sizeof(trailer));
  os.close();
  if (os.has_error())
    return makeError(formatv("{0}: write failed: {1}", options.outputPath,
                             os.error().message()));
  return llvm::Error::success();
}

llvm::Error Writer::run() {
  if (llvm::Error err = collectKernels())
    return err;
  SmallVector<func::FuncOp> entries;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(kEntryAttrName))
      entries.push_back(func);
  if (entries.empty())
    return makeError("the module has no entry function (lathe.entry)");
  progress(formatv("writing {0} entries", entries.size()).str());
  for (func::FuncOp entry : entries)
    if (llvm::Error err = addFunction(entry))
      return err;
  if (llvm::Error err = compileTargets())
    return err;
  return finish();
}

} // namespace

llvm::Error lathe::writeBundle(ModuleOp module, const BundleOptions &options) {
  return Writer(module, options).run();
}

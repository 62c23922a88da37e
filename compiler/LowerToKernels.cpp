//===- LowerToKernels.cpp - phase `optimized` to phase `kernels` ----------===//
//
// Each graph op of an entry becomes the launches of the kernels that compute
// it, in order (targets/KernelSpecs.h says what each kernel computes and
// which buffers it takes). Activations are 2-D f32 buffers [rows, width]
// whose rows are the entry's tokens (batch * tokens), its rows (batch), or
// its token-expert pairs; the buffers are views of the entry's arena, placed
// by their lifetimes once every launch exists.
//
//===----------------------------------------------------------------------===//

#include "compiler/LowerToKernels.h"

#include "compiler/BufferPlan.h"
#include "dialects/lathe/IR/LatheOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace lathe;

namespace {

constexpr int64_t kArenaAlignment = 64;

/// Kernels built so far, one per distinct spec, in every target module.
class KernelTable {
public:
  KernelTable(ModuleOp top, ArrayRef<const KernelTarget *> targets) {
    OpBuilder b = OpBuilder::atBlockEnd(top.getBody());
    for (const KernelTarget *target : targets) {
      auto module = ModuleOp::create(b, top.getLoc(), target->name());
      target->annotateModule(module);
      modules.push_back({target, module});
    }
  }

  /// The kernel of `spec`, built in every target on first use.
  FailureOr<FlatSymbolRefAttr> get(const KernelSpec &spec, Location loc) {
    std::string key = kernelKey(spec);
    auto it = byKey.find(key);
    if (it != byKey.end())
      return FlatSymbolRefAttr::get(loc.getContext(), it->second);
    // Specs that differ only in what the summary leaves out get a suffix.
    std::string base = kernelSummary(spec), name = base;
    for (int i = 1; names.contains(name); ++i)
      name = llvm::formatv("{0}_{1}", base, i).str();
    names.insert(name);
    byKey[key] = name;
    for (auto [target, module] : modules) {
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      if (failed(target->buildKernel(b, loc, name, spec)))
        return emitError(loc) << "target " << target->name()
                              << " cannot build kernel " << name;
    }
    return FlatSymbolRefAttr::get(loc.getContext(), name);
  }

private:
  SmallVector<std::pair<const KernelTarget *, ModuleOp>> modules;
  llvm::StringMap<std::string> byKey;
  llvm::StringSet<> names;
};

/// An activation: a [rows, width] buffer, rows an index value.
struct Buffer {
  Value memref;
  Value rows;
  int64_t maxRows = 0;
  int64_t width = 0;
};

/// How many rows a value of the graph has, and at most.
struct Rows {
  Value value;
  int64_t max = 0;
};

/// One entry function being rewritten.
class EntryLowering {
public:
  EntryLowering(func::FuncOp graph, KernelTable &kernels, EntryLimits limits)
      : graph(graph), kernels(kernels), limits(limits),
        b(graph.getContext()), f32(b.getF32Type()), i32(b.getI32Type()) {}

  /// The entry on buffers, inserted before the graph entry (which the caller
  /// erases).
  FailureOr<func::FuncOp> run();

private:
  LogicalResult createFunction();
  LogicalResult lower(Operation *op);
  LogicalResult lowerEmbedding(EmbeddingOp op);
  LogicalResult lowerRmsNorm(RMSNormOp op);
  LogicalResult lowerAdd(AddOp op);
  LogicalResult lowerLinear(LinearOp op);
  LogicalResult lowerMLP(MLPOp op);
  LogicalResult lowerMLA(MLAOp op);
  LogicalResult lowerMoE(MoEOp op);
  LogicalResult lowerMoERouter(MoERouterOp op);
  LogicalResult lowerMoEDispatch(MoEDispatchOp op);
  LogicalResult lowerMoEExperts(MoEExpertsOp op);
  LogicalResult lowerLastPosition(tensor::ExtractSliceOp op);
  LogicalResult lowerLMHead(LMHeadOp op);
  void planArena();

  // -- Buffers -------------------------------------------------------------
  /// A new arena buffer; its offset is set by planArena().
  Buffer arena(Rows rows, int64_t width, Type elementType);
  Buffer arena(Rows rows, int64_t width) { return arena(rows, width, f32); }
  /// The buffer a graph op's result goes to: the entry's output when it is
  /// returned, else a new arena buffer.
  Buffer result(Value graphValue, Rows rows, int64_t width);
  FailureOr<Buffer> activation(Operation *op, Value graphValue);
  /// The memref of a graph weight.
  Value weight(Value graphWeight);
  Value weightTable(ValueRange graphWeights);
  Value ropeTable(RopeAttr rope, int64_t dims);
  Value kvCache(int64_t layer, int64_t width);
  Rows product(Rows rows, int64_t factor);

  // -- Launches ------------------------------------------------------------
  LogicalResult launch(Location loc, const KernelSpec &spec,
                       ArrayRef<Value> buffers, ArrayRef<Value> scalars);
  /// y = x · Wᵀ for every row of x (a new buffer unless `into` is given).
  FailureOr<Buffer> gemm(Location loc, const Buffer &x, Value graphWeight,
                         const WeightFormat &format, Value scale,
                         std::optional<Buffer> into = std::nullopt);
  /// silu(x · Gᵀ) * (x · Uᵀ), then · Dᵀ: a SwiGLU MLP.
  FailureOr<Buffer> swiglu(Location loc, const Buffer &x, Value gate, Value up,
                           Value down, const DenseMap<Value, Value> &scales,
                           std::optional<ArrayRef<int64_t>> block,
                           std::optional<Buffer> into = std::nullopt);
  // -- MoE -----------------------------------------------------------------
  /// The routed experts of a lathe.moe or lathe.moe_experts, dispatched.
  struct RoutedExperts {
    ValueRange gate, up, down;
    DenseMap<Value, Value> scales;
    std::optional<ArrayRef<int64_t>> block;
    Buffer offsets, order;
    int64_t topk;
  };
  /// Token-expert pairs of `ids` [rows, topk] grouped by expert: (offsets,
  /// order); a null offsets memref if the launch failed.
  std::pair<Buffer, Buffer> dispatch(Location loc, const Buffer &ids,
                                     int64_t experts);
  /// silu(x · G_eᵀ) * (x · U_eᵀ) for every pair, in pair order.
  FailureOr<Buffer> expertsUp(Location loc, const Buffer &x,
                              const RoutedExperts &experts);
  /// The down projection's grouped GEMM and its buffers up to the row
  /// weights (the output, and for the fused form the init, follow).
  GemmSpec expertsDownSpec(const RoutedExperts &experts, int64_t hidden);
  SmallVector<Value> expertsDownBuffers(const RoutedExperts &experts,
                                        const Buffer &inter,
                                        const Buffer &routing);
  /// The table of the scales of `graphWeights`.
  Value scaleTable(ValueRange graphWeights,
                   const DenseMap<Value, Value> &scales);

  FailureOr<Buffer> rmsNorm(Location loc, const Buffer &x, Value graphWeight,
                            double eps, std::optional<Buffer> into);

  WeightFormat format(Value graphWeight,
                      std::optional<ArrayRef<int64_t>> block) const;
  /// The scale operand of each FP8 weight of `weights` (operand order).
  static DenseMap<Value, Value> scalesOf(ArrayRef<Value> weights,
                                         ValueRange scales);

  func::FuncOp graph, entry;
  KernelTable &kernels;
  EntryLimits limits;
  OpBuilder b;
  Type f32, i32;
  bool decode = false;

  Value tokens, positions, logits;
  /// Weights, tables and caches go before this op, in order of first use.
  Operation *bodyStart = nullptr;
  Value batch, seq; // index values
  Rows tokenRows, batchRows;
  /// The graph value the entry returns, and the output it goes to.
  Value returned;

  DenseMap<Value, Buffer> activations;
  DenseMap<Value, Value> weights;
  DenseMap<std::pair<Attribute, int64_t>, Value> ropeTables;
  DenseMap<int64_t, Value> kvCaches;
  DenseMap<std::pair<Value, int64_t>, Value> products;
  Value one; // the index 1
  std::map<std::vector<const void *>, Value> weightTables;

  struct ArenaUse {
    ArenaOp op;
    int64_t bytes;
    int64_t first = -1, last = -1;
  };
  SmallVector<ArenaUse> arenaUses;
  DenseMap<Operation *, size_t> arenaIndex;
  int64_t launches = 0;
};

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

Buffer EntryLowering::arena(Rows rows, int64_t width, Type elementType) {
  auto type = MemRefType::get({ShapedType::kDynamic, width}, elementType);
  auto op = ArenaOp::create(b, graph.getLoc(), type, /*offset=*/0,
                            ValueRange{rows.value});
  int64_t bytes = rows.max * width * (elementType.getIntOrFloatBitWidth() / 8);
  arenaIndex[op] = arenaUses.size();
  arenaUses.push_back({op, bytes});
  return {op, rows.value, rows.max, width};
}

Buffer EntryLowering::result(Value graphValue, Rows rows, int64_t width) {
  if (graphValue == returned)
    return {logits, rows.value, rows.max, width};
  return arena(rows, width);
}

FailureOr<Buffer> EntryLowering::activation(Operation *op, Value graphValue) {
  auto it = activations.find(graphValue);
  if (it == activations.end())
    return op->emitOpError()
           << "has an operand that no lowered op produced (lathe lowers "
              "@prefill/@decode entries of lathe graph ops only)";
  return it->second;
}

Value EntryLowering::weight(Value graphWeight) {
  auto it = weights.find(graphWeight);
  if (it != weights.end())
    return it->second;
  auto op = graphWeight.getDefiningOp<WeightOp>();
  assert(op && "graph weights are lathe.weight results (verified by the ops)");
  auto tensor = cast<RankedTensorType>(graphWeight.getType());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(bodyStart);
  auto memref = MemRefType::get(tensor.getShape(), tensor.getElementType());
  Value value = WeightOp::create(b, op.getLoc(), memref, op.getTensorNameAttr(),
                                 op.getFileAttr(), op.getOffsetAttr());
  weights[graphWeight] = value;
  return value;
}

Value EntryLowering::weightTable(ValueRange graphWeights) {
  SmallVector<Value> entries;
  std::vector<const void *> key;
  for (Value w : graphWeights) {
    entries.push_back(weight(w));
    key.push_back(entries.back().getAsOpaquePointer());
  }
  auto it = weightTables.find(key);
  if (it != weightTables.end())
    return it->second;
  auto element = cast<MemRefType>(entries.front().getType());
  auto type = TableType::get(b.getContext(), entries.size(), element);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(bodyStart);
  Value table = WeightTableOp::create(b, graph.getLoc(), type, entries);
  weightTables[key] = table;
  return table;
}

Value EntryLowering::ropeTable(RopeAttr rope, int64_t dims) {
  auto key = std::make_pair(Attribute(rope), dims);
  if (Value table = ropeTables[key])
    return table;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(bodyStart);
  auto type = MemRefType::get({limits.maxSeqLen, 2, dims}, f32);
  Value table = RopeTableOp::create(b, graph.getLoc(), type, rope);
  ropeTables[key] = table;
  return table;
}

Value EntryLowering::kvCache(int64_t layer, int64_t width) {
  if (Value cache = kvCaches.lookup(layer))
    return cache;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(bodyStart);
  auto type = MemRefType::get({limits.maxBatch, limits.maxSeqLen, width}, f32);
  Value cache = KVCacheOp::create(b, graph.getLoc(), type, layer);
  kvCaches[layer] = cache;
  return cache;
}

Rows EntryLowering::product(Rows rows, int64_t factor) {
  auto key = std::make_pair(rows.value, factor);
  if (Value known = products.lookup(key))
    return {known, rows.max * factor};
  // Right after `rows`, so that every later use sees it.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(rows.value);
  AffineExpr s0 = b.getAffineSymbolExpr(0);
  Value value = affine::AffineApplyOp::create(
      b, graph.getLoc(), AffineMap::get(0, 1, s0 * factor), rows.value);
  products[key] = value;
  return {value, rows.max * factor};
}

WeightFormat EntryLowering::format(Value graphWeight,
                                   std::optional<ArrayRef<int64_t>> block) const {
  WeightFormat format;
  format.elementType = cast<ShapedType>(graphWeight.getType()).getElementType();
  if (format.isFP8() && block && block->size() == 2)
    format.block = std::array<int64_t, 2>{(*block)[0], (*block)[1]};
  return format;
}

DenseMap<Value, Value> EntryLowering::scalesOf(ArrayRef<Value> weightOperands,
                                               ValueRange scales) {
  DenseMap<Value, Value> result;
  size_t next = 0;
  for (Value w : weightOperands) {
    Type element = cast<ShapedType>(w.getType()).getElementType();
    if (isFP8(element) && next < scales.size())
      result[w] = scales[next++];
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Launches
//===----------------------------------------------------------------------===//

LogicalResult EntryLowering::launch(Location loc, const KernelSpec &spec,
                                    ArrayRef<Value> buffers,
                                    ArrayRef<Value> scalars) {
  FailureOr<FlatSymbolRefAttr> kernel = kernels.get(spec, loc);
  if (failed(kernel))
    return failure();
  KernelInterface interface = kernelInterface(spec);
  assert(static_cast<int64_t>(buffers.size()) == interface.buffers &&
         static_cast<int64_t>(scalars.size()) == interface.scalars &&
         "a launch must match its spec's interface");
  (void)interface;
  LaunchOp::create(b, loc, *kernel, buffers, scalars);
  for (Value buffer : buffers) {
    auto it = arenaIndex.find(buffer.getDefiningOp());
    if (it == arenaIndex.end())
      continue;
    ArenaUse &use = arenaUses[it->second];
    if (use.first < 0)
      use.first = launches;
    use.last = launches;
  }
  ++launches;
  return success();
}

FailureOr<Buffer> EntryLowering::gemm(Location loc, const Buffer &x,
                                      Value graphWeight,
                                      const WeightFormat &format, Value scale,
                                      std::optional<Buffer> into) {
  ArrayRef<int64_t> shape = cast<ShapedType>(graphWeight.getType()).getShape();
  GemmSpec spec;
  spec.n = shape[0];
  spec.k = shape[1];
  spec.weight = format;
  Buffer y = into ? *into : arena({x.rows, x.maxRows}, spec.n);
  SmallVector<Value> buffers = {x.memref, weight(graphWeight)};
  if (format.block)
    buffers.push_back(weight(scale));
  buffers.push_back(y.memref);
  if (failed(launch(loc, spec, buffers, {x.rows})))
    return failure();
  return y;
}

FailureOr<Buffer> EntryLowering::swiglu(Location loc, const Buffer &x,
                                        Value gate, Value up, Value down,
                                        const DenseMap<Value, Value> &scales,
                                        std::optional<ArrayRef<int64_t>> block,
                                        std::optional<Buffer> into) {
  ArrayRef<int64_t> shape = cast<ShapedType>(gate.getType()).getShape();
  GemmSpec spec;
  spec.n = shape[0];
  spec.k = shape[1];
  spec.weight = format(gate, block);
  spec.swiglu = true;
  Buffer hidden = arena({x.rows, x.maxRows}, spec.n);
  SmallVector<Value> buffers = {x.memref};
  for (Value w : {gate, up}) {
    buffers.push_back(weight(w));
    if (spec.weight.block)
      buffers.push_back(weight(scales.lookup(w)));
  }
  buffers.push_back(hidden.memref);
  if (failed(launch(loc, spec, buffers, {x.rows})))
    return failure();
  return gemm(loc, hidden, down, format(down, block), scales.lookup(down),
              into);
}

FailureOr<Buffer> EntryLowering::rmsNorm(Location loc, const Buffer &x,
                                         Value graphWeight, double eps,
                                         std::optional<Buffer> into) {
  RmsNormSpec spec;
  spec.dim = x.width;
  spec.inStride = x.width;
  spec.inOffset = 0;
  spec.weightType = cast<ShapedType>(graphWeight.getType()).getElementType();
  spec.eps = eps;
  Buffer y = into ? *into : arena({x.rows, x.maxRows}, x.width);
  if (failed(launch(loc, spec, {x.memref, weight(graphWeight), y.memref},
                    {x.rows})))
    return failure();
  return y;
}

//===----------------------------------------------------------------------===//
// Graph ops
//===----------------------------------------------------------------------===//

LogicalResult EntryLowering::lowerEmbedding(EmbeddingOp op) {
  auto table = cast<ShapedType>(op.getTable().getType());
  EmbeddingSpec spec{table.getDimSize(0), table.getDimSize(1),
                     table.getElementType()};
  Buffer out = result(op.getResult(), tokenRows, spec.dim);
  if (failed(launch(op.getLoc(), spec,
                    {tokens, weight(op.getTable()), out.memref},
                    {tokenRows.value})))
    return failure();
  activations[op.getResult()] = out;
  return success();
}

LogicalResult EntryLowering::lowerRmsNorm(RMSNormOp op) {
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  FailureOr<Buffer> y =
      rmsNorm(op.getLoc(), *x, op.getWeight(), op.getEps().convertToDouble(),
              op.getResult() == returned
                  ? std::optional<Buffer>(result(op.getResult(),
                                                 {x->rows, x->maxRows},
                                                 x->width))
                  : std::nullopt);
  if (failed(y))
    return failure();
  activations[op.getResult()] = *y;
  return success();
}

LogicalResult EntryLowering::lowerAdd(AddOp op) {
  FailureOr<Buffer> lhs = activation(op, op.getLhs());
  FailureOr<Buffer> rhs = activation(op, op.getRhs());
  if (failed(lhs) || failed(rhs))
    return failure();
  Buffer out = result(op.getResult(), {lhs->rows, lhs->maxRows}, lhs->width);
  if (failed(launch(op.getLoc(), AddSpec{lhs->width},
                    {lhs->memref, rhs->memref, out.memref}, {lhs->rows})))
    return failure();
  activations[op.getResult()] = out;
  return success();
}

LogicalResult EntryLowering::lowerLinear(LinearOp op) {
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  DenseMap<Value, Value> scales = scalesOf({op.getWeight()}, op.getScales());
  int64_t n = cast<ShapedType>(op.getWeight().getType()).getDimSize(0);
  FailureOr<Buffer> y =
      gemm(op.getLoc(), *x, op.getWeight(), format(op.getWeight(), op.getBlockSize()),
           scales.lookup(op.getWeight()),
           result(op.getResult(), {x->rows, x->maxRows}, n));
  if (failed(y))
    return failure();
  activations[op.getResult()] = *y;
  return success();
}

LogicalResult EntryLowering::lowerMLP(MLPOp op) {
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  DenseMap<Value, Value> scales =
      scalesOf({op.getGate(), op.getUp(), op.getDown()}, op.getScales());
  FailureOr<Buffer> y =
      swiglu(op.getLoc(), *x, op.getGate(), op.getUp(), op.getDown(), scales,
             op.getBlockSize(),
             result(op.getResult(), {x->rows, x->maxRows}, x->width));
  if (failed(y))
    return failure();
  activations[op.getResult()] = *y;
  return success();
}

LogicalResult EntryLowering::lowerMLA(MLAOp op) {
  std::optional<uint64_t> layer = op.getKvCacheLayer();
  if (!layer)
    return op.emitOpError()
           << "has no kv_cache_layer: lower the @prefill/@decode entries that "
              "lathe-specialize-entries makes, not @forward";
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  Location loc = op.getLoc();
  const int64_t heads = op.getNumHeads(), nope = op.getQkNopeHeadDim(),
                rope = op.getQkRopeHeadDim(), v = op.getVHeadDim(),
                rank = op.getKvLoraRank();
  const double eps = op.getRmsNormEps().convertToDouble();
  std::optional<ArrayRef<int64_t>> block = op.getBlockSize();
  SmallVector<Value> weightOperands;
  for (Value w : {Value(op.getQProj()), Value(op.getQAProj()),
                  Value(op.getQBProj()), Value(op.getKvAProj()),
                  Value(op.getKvBProj()), Value(op.getOProj())})
    if (w)
      weightOperands.push_back(w);
  DenseMap<Value, Value> scales = scalesOf(weightOperands, op.getScales());
  auto project = [&](const Buffer &in, Value w) {
    return gemm(loc, in, w, format(w, block), scales.lookup(w));
  };

  // Queries, then RoPE on their rope dims in place.
  FailureOr<Buffer> q = failure();
  if (op.getQProj()) {
    q = project(*x, op.getQProj());
  } else {
    FailureOr<Buffer> qa = project(*x, op.getQAProj());
    if (failed(qa))
      return failure();
    FailureOr<Buffer> qan = rmsNorm(loc, *qa, op.getQANorm(), eps, std::nullopt);
    if (failed(qan))
      return failure();
    q = project(*qan, op.getQBProj());
  }
  if (failed(q))
    return failure();
  Value table = ropeTable(op.getRope(), rope);
  RopeSpec ropeSpec{heads * (nope + rope), heads, nope + rope, nope, rope,
                    limits.maxSeqLen};
  if (failed(launch(loc, ropeSpec, {q->memref, positions, table},
                    {tokenRows.value})))
    return failure();

  // The latent c_kv and k_pe of the new tokens go to the cache first, so
  // that each token attends to those before it in this call too.
  FailureOr<Buffer> kv = project(*x, op.getKvAProj());
  if (failed(kv))
    return failure();
  Value cache = kvCache(*layer, rank + rope);
  KVAppendSpec append{rank,
                      rope,
                      limits.maxSeqLen,
                      limits.maxBatch,
                      limits.maxSeqLen,
                      cast<ShapedType>(op.getKvANorm().getType()).getElementType(),
                      eps};
  if (failed(launch(loc, append,
                    {kv->memref, weight(op.getKvANorm()), positions, table,
                     cache},
                    {tokenRows.value, seq})))
    return failure();

  MLAAttentionSpec attention{heads,
                             nope,
                             rope,
                             v,
                             rank,
                             limits.maxBatch,
                             limits.maxSeqLen,
                             format(op.getKvBProj(), block),
                             op.getSoftmaxScale().convertToDouble()};
  Buffer attended = arena(tokenRows, heads * v);
  SmallVector<Value> buffers = {q->memref, weight(op.getKvBProj())};
  if (attention.kvB.block)
    buffers.push_back(weight(scales.lookup(op.getKvBProj())));
  buffers.append({positions, cache, attended.memref});
  if (failed(launch(loc, attention, buffers, {tokenRows.value, seq})))
    return failure();

  FailureOr<Buffer> out =
      gemm(loc, attended, op.getOProj(), format(op.getOProj(), block),
           scales.lookup(op.getOProj()),
           result(op.getResult(), tokenRows, x->width));
  if (failed(out))
    return failure();
  activations[op.getResult()] = *out;
  return success();
}

/// The routing of a lathe.moe or a lathe.moe_router.
template <typename RouterOp>
static MoETopkSpec routerSpec(RouterOp op) {
  MoETopkSpec spec;
  spec.experts = op.getNumExperts();
  spec.topk = op.getTopK();
  spec.groups = op.getNGroup();
  spec.topkGroups = op.getTopkGroup();
  spec.sigmoid = op.getScoring() == ScoringFunc::sigmoid;
  spec.renormalize = op.getNormTopkProb();
  spec.scaling = op.getRoutedScalingFactor().convertToDouble();
  if (Value bias = op.getCorrectionBias())
    spec.biasType = cast<ShapedType>(bias.getType()).getElementType();
  return spec;
}

std::pair<Buffer, Buffer> EntryLowering::dispatch(Location loc,
                                                  const Buffer &ids,
                                                  int64_t experts) {
  Rows pairs = product({ids.rows, ids.maxRows}, ids.width);
  Buffer offsets = arena({one, 1}, experts + 1, i32);
  Buffer order = arena(pairs, 1, i32);
  if (failed(launch(loc, MoEPermuteSpec{experts},
                    {ids.memref, offsets.memref, order.memref}, {pairs.value})))
    return {};
  return {offsets, order};
}

FailureOr<Buffer> EntryLowering::expertsUp(Location loc, const Buffer &x,
                                           const RoutedExperts &experts) {
  GemmSpec up;
  ArrayRef<int64_t> gateShape =
      cast<ShapedType>(experts.gate[0].getType()).getShape();
  up.n = gateShape[0];
  up.k = gateShape[1];
  up.weight = format(experts.gate[0], experts.block);
  up.swiglu = true;
  up.grouped = true;
  up.experts = experts.gate.size();
  up.xRowDiv = experts.topk;
  Buffer inter = arena({experts.order.rows, experts.order.maxRows}, up.n);
  SmallVector<Value> buffers = {x.memref};
  for (ValueRange ws : {experts.gate, experts.up}) {
    buffers.push_back(weightTable(ws));
    if (up.weight.block)
      buffers.push_back(scaleTable(ws, experts.scales));
  }
  buffers.append({experts.offsets.memref, experts.order.memref, inter.memref});
  if (failed(launch(loc, up, buffers, {x.rows, experts.order.rows})))
    return failure();
  return inter;
}

GemmSpec EntryLowering::expertsDownSpec(const RoutedExperts &experts,
                                        int64_t hidden) {
  GemmSpec down;
  down.n = hidden;
  down.k = cast<ShapedType>(experts.down[0].getType()).getDimSize(1);
  down.weight = format(experts.down[0], experts.block);
  down.grouped = true;
  down.experts = experts.down.size();
  down.rowScale = true;
  return down;
}

SmallVector<Value> EntryLowering::expertsDownBuffers(
    const RoutedExperts &experts, const Buffer &inter, const Buffer &routing) {
  SmallVector<Value> buffers = {inter.memref, weightTable(experts.down)};
  if (format(experts.down[0], experts.block).block)
    buffers.push_back(scaleTable(experts.down, experts.scales));
  buffers.append({experts.offsets.memref, experts.order.memref,
                  routing.memref});
  return buffers;
}

Value EntryLowering::scaleTable(ValueRange graphWeights,
                                const DenseMap<Value, Value> &scales) {
  SmallVector<Value> entries;
  for (Value w : graphWeights)
    entries.push_back(scales.lookup(w));
  return weightTable(entries);
}

LogicalResult EntryLowering::lowerMoE(MoEOp op) {
  // Unfused (lathe-fuse-moe-routing skipped): the router's GEMM and top-k,
  // the permutation, the grouped GEMMs writing one row per pair, then a
  // combine that sums each token's pairs and the shared experts.
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  Location loc = op.getLoc();
  const int64_t experts = op.getNumExperts(), topk = op.getTopK(),
                hidden = x->width;
  SmallVector<Value> weightOperands;
  llvm::append_range(weightOperands, op.getExpertGate());
  llvm::append_range(weightOperands, op.getExpertUp());
  llvm::append_range(weightOperands, op.getExpertDown());
  for (Value w : {Value(op.getSharedGate()), Value(op.getSharedUp()),
                  Value(op.getSharedDown())})
    if (w)
      weightOperands.push_back(w);
  DenseMap<Value, Value> scales = scalesOf(weightOperands, op.getScales());
  Rows rows{x->rows, x->maxRows};

  FailureOr<Buffer> routerLogits =
      gemm(loc, *x, op.getRouterWeight(), format(op.getRouterWeight(), {}),
           Value());
  if (failed(routerLogits))
    return failure();
  Buffer ids = arena(rows, topk, i32), routing = arena(rows, topk);
  MoETopkSpec topkSpec = routerSpec(op);
  SmallVector<Value> topkBuffers = {routerLogits->memref};
  if (Value bias = op.getCorrectionBias())
    topkBuffers.push_back(weight(bias));
  topkBuffers.append({ids.memref, routing.memref});
  if (failed(launch(loc, topkSpec, topkBuffers, {x->rows})))
    return failure();

  auto [offsets, order] = dispatch(loc, ids, experts);
  if (!offsets.memref)
    return failure();
  RoutedExperts routed{op.getExpertGate(), op.getExpertUp(),
                       op.getExpertDown(), scales, op.getBlockSize(),
                       offsets, order, topk};
  FailureOr<Buffer> inter = expertsUp(loc, *x, routed);
  if (failed(inter))
    return failure();
  Buffer expertOut = arena({order.rows, order.maxRows}, hidden);
  SmallVector<Value> downBuffers = expertsDownBuffers(routed, *inter, routing);
  downBuffers.push_back(expertOut.memref);
  if (failed(launch(loc, expertsDownSpec(routed, hidden), downBuffers,
                    {order.rows, order.rows})))
    return failure();

  std::optional<Buffer> shared;
  if (op.getSharedGate()) {
    FailureOr<Buffer> s = swiglu(loc, *x, op.getSharedGate(), op.getSharedUp(),
                                 op.getSharedDown(), scales, op.getBlockSize());
    if (failed(s))
      return failure();
    shared = *s;
  }
  Buffer out = result(op.getResult(), rows, hidden);
  SmallVector<Value> combineBuffers = {expertOut.memref};
  if (shared)
    combineBuffers.push_back(shared->memref);
  combineBuffers.push_back(out.memref);
  if (failed(launch(loc, MoECombineSpec{hidden, topk, shared.has_value()},
                    combineBuffers, {x->rows})))
    return failure();
  activations[op.getResult()] = out;
  return success();
}

LogicalResult EntryLowering::lowerMoERouter(MoERouterOp op) {
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  Rows rows{x->rows, x->maxRows};
  MoERouterSpec spec{x->width,
                     cast<ShapedType>(op.getRouterWeight().getType())
                         .getElementType(),
                     routerSpec(op)};
  Buffer ids = arena(rows, spec.topk.topk, i32);
  Buffer routing = arena(rows, spec.topk.topk);
  SmallVector<Value> buffers = {x->memref, weight(op.getRouterWeight())};
  if (Value bias = op.getCorrectionBias())
    buffers.push_back(weight(bias));
  buffers.append({ids.memref, routing.memref});
  if (failed(launch(op.getLoc(), spec, buffers, {x->rows})))
    return failure();
  activations[op.getIds()] = ids;
  activations[op.getWeights()] = routing;
  return success();
}

LogicalResult EntryLowering::lowerMoEDispatch(MoEDispatchOp op) {
  if (op.getMTile() != 1)
    return op.emitOpError()
           << "has m_tile = " << op.getMTile()
           << ", but the cpu target's grouped GEMM takes segments of any "
              "length and pads none (m_tile = 1)";
  FailureOr<Buffer> ids = activation(op, op.getIds());
  if (failed(ids))
    return failure();
  auto [offsets, order] = dispatch(op.getLoc(), *ids, op.getNumExperts());
  if (!offsets.memref)
    return failure();
  activations[op.getOffsets()] = offsets;
  activations[op.getOrder()] = order;
  return success();
}

LogicalResult EntryLowering::lowerMoEExperts(MoEExpertsOp op) {
  FailureOr<Buffer> x = activation(op, op.getInput());
  FailureOr<Buffer> routing = activation(op, op.getWeights());
  FailureOr<Buffer> offsets = activation(op, op.getOffsets());
  FailureOr<Buffer> order = activation(op, op.getOrder());
  if (failed(x) || failed(routing) || failed(offsets) || failed(order))
    return failure();
  std::optional<Buffer> init;
  if (Value acc = op.getAccumulate()) {
    FailureOr<Buffer> a = activation(op, acc);
    if (failed(a))
      return failure();
    init = *a;
  }
  Location loc = op.getLoc();
  SmallVector<Value> weightOperands;
  for (OperandRange ws :
       {op.getExpertGate(), op.getExpertUp(), op.getExpertDown()})
    llvm::append_range(weightOperands, ws);
  RoutedExperts routed{op.getExpertGate(),
                       op.getExpertUp(),
                       op.getExpertDown(),
                       scalesOf(weightOperands, op.getScales()),
                       op.getBlockSize(),
                       *offsets,
                       *order,
                       routing->width};
  FailureOr<Buffer> inter = expertsUp(loc, *x, routed);
  if (failed(inter))
    return failure();
  // Down, times the routing weight, added into token order on top of the
  // shared experts' output.
  GemmSpec down = expertsDownSpec(routed, x->width);
  down.scatterAdd = true;
  down.yRowDiv = routed.topk;
  down.init = init.has_value();
  Buffer out = result(op.getResult(), {x->rows, x->maxRows}, x->width);
  SmallVector<Value> buffers = expertsDownBuffers(routed, *inter, *routing);
  if (init)
    buffers.push_back(init->memref);
  buffers.push_back(out.memref);
  if (failed(launch(loc, down, buffers, {order->rows, order->rows})))
    return failure();
  activations[op.getResult()] = out;
  return success();
}

LogicalResult EntryLowering::lowerLastPosition(tensor::ExtractSliceOp op) {
  // lathe-specialize-entries slices [batch, seq, hidden] to each row's last
  // position, [batch, 1, hidden]; nothing else is lowered.
  auto source = cast<RankedTensorType>(op.getSourceType());
  auto sliced = op.getResultType();
  if (source.getRank() != 3 || sliced.getRank() != 3 ||
      sliced.getDimSize(1) != 1 || !op.hasUnitStride() ||
      sliced.getDimSize(2) != source.getDimSize(2))
    return op.emitOpError() << "is not a slice of each row's last position "
                               "(the only tensor.extract_slice lathe lowers)";
  FailureOr<Buffer> x = activation(op, op.getSource());
  if (failed(x))
    return failure();
  Buffer out = result(op.getResult(), batchRows, x->width);
  if (failed(launch(op.getLoc(), GatherLastSpec{x->width},
                    {x->memref, out.memref}, {batch, seq})))
    return failure();
  activations[op.getResult()] = out;
  return success();
}

LogicalResult EntryLowering::lowerLMHead(LMHeadOp op) {
  FailureOr<Buffer> x = activation(op, op.getInput());
  if (failed(x))
    return failure();
  int64_t vocab = cast<ShapedType>(op.getWeight().getType()).getDimSize(0);
  FailureOr<Buffer> y =
      gemm(op.getLoc(), *x, op.getWeight(), format(op.getWeight(), {}), Value(),
           result(op.getResult(), {x->rows, x->maxRows}, vocab));
  if (failed(y))
    return failure();
  activations[op.getResult()] = *y;
  return success();
}

LogicalResult EntryLowering::lower(Operation *op) {
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<WeightOp>([](WeightOp) { return success(); }) // made on first use
      .Case<EmbeddingOp>([&](auto op) { return lowerEmbedding(op); })
      .Case<RMSNormOp>([&](auto op) { return lowerRmsNorm(op); })
      .Case<AddOp>([&](auto op) { return lowerAdd(op); })
      .Case<LinearOp>([&](auto op) { return lowerLinear(op); })
      .Case<MLPOp>([&](auto op) { return lowerMLP(op); })
      .Case<MLAOp>([&](auto op) { return lowerMLA(op); })
      .Case<MoEOp>([&](auto op) { return lowerMoE(op); })
      .Case<MoERouterOp>([&](auto op) { return lowerMoERouter(op); })
      .Case<MoEDispatchOp>([&](auto op) { return lowerMoEDispatch(op); })
      .Case<MoEExpertsOp>([&](auto op) { return lowerMoEExperts(op); })
      .Case<LMHeadOp>([&](auto op) { return lowerLMHead(op); })
      .Case<tensor::ExtractSliceOp>(
          [&](auto op) { return lowerLastPosition(op); })
      .Case<tensor::CastOp>([&](tensor::CastOp cast) -> LogicalResult {
        // Decode's [batch, 1] arguments cast to the graph's dynamic types.
        auto it = activations.find(cast.getSource());
        if (it == activations.end())
          return cast.emitOpError() << "casts a value lathe did not lower";
        activations[cast.getResult()] = it->second;
        return success();
      })
      // Index arithmetic feeding the last-position slice: the slice's
      // lowering computes what it needs.
      .Case<tensor::DimOp, arith::ConstantOp, arith::SubIOp>(
          [](Operation *) { return success(); })
      .Case<func::ReturnOp>([](auto) { return success(); })
      .Default([](Operation *op) {
        return op->emitOpError() << "has no lowering to kernels";
      });
}

//===----------------------------------------------------------------------===//
// The entry
//===----------------------------------------------------------------------===//

LogicalResult EntryLowering::createFunction() {
  MLIRContext *context = graph.getContext();
  FunctionType type = graph.getFunctionType();
  if (type.getNumInputs() != 2 || type.getNumResults() != 1)
    return graph.emitOpError()
           << "an entry takes (tokens, positions) and returns logits";
  auto tokensType = dyn_cast<RankedTensorType>(type.getInput(0));
  auto logitsType = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!tokensType || tokensType.getRank() != 2 || !logitsType ||
      logitsType.getRank() != 3 || logitsType.getDimSize(1) != 1 ||
      logitsType.isDynamicDim(2))
    return graph.emitOpError()
           << "an entry takes tokens [batch, seq] and returns the last "
              "position's logits [batch, 1, vocab]";
  decode = tokensType.getDimSize(1) == 1;
  const int64_t vocab = logitsType.getDimSize(2);
  const int64_t dyn = ShapedType::kDynamic;
  auto ids = MemRefType::get({dyn, decode ? 1 : dyn}, i32);
  auto out = MemRefType::get({dyn, vocab}, f32);

  b.setInsertionPoint(graph);
  std::string name = graph.getSymName().str();
  entry = func::FuncOp::create(b, graph.getLoc(), name + ".kernels",
                               b.getFunctionType({ids, ids, out}, {}));
  entry->setAttr(kEntryAttrName,
                 graph->getAttrOfType<StringAttr>(kEntryAttrName));
  entry->setAttr(kNumInputsAttrName, b.getI64IntegerAttr(2));
  entry->setAttr(kWritesKVCacheAttrName, b.getUnitAttr());

  // Symbols: batch, and the tokens per row unless decode fixes them to 1.
  auto symbol = [&](StringRef symbolName, int64_t dim, int64_t max) {
    return b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(symbolName)),
         b.getNamedAttr("input", b.getI64IntegerAttr(0)),
         b.getNamedAttr("dim", b.getI64IntegerAttr(dim)),
         b.getNamedAttr("max", b.getI64IntegerAttr(max))});
  };
  SmallVector<Attribute> symbols = {symbol("batch", 0, limits.maxBatch)};
  if (!decode)
    symbols.push_back(symbol("tokens", 1, limits.maxSeqLen));
  entry->setAttr(kSymbolsAttrName, b.getArrayAttr(symbols));
  unsigned numSymbols = symbols.size();
  AffineExpr s0 = b.getAffineSymbolExpr(0);
  AffineExpr tokensDim =
      decode ? b.getAffineConstantExpr(1) : b.getAffineSymbolExpr(1);
  auto shape = [&](ArrayRef<AffineExpr> dims) {
    return AffineMapAttr::get(AffineMap::get(0, numSymbols, dims, context));
  };
  auto argAttrs = [&](StringRef role, AffineMapAttr argShape) {
    return b.getDictionaryAttr(
        {b.getNamedAttr(kRoleAttrName, b.getStringAttr(role)),
         b.getNamedAttr(kShapeAttrName, argShape)});
  };
  entry.setArgAttrsAttr(b.getArrayAttr(
      {argAttrs("tokens", shape({s0, tokensDim})),
       argAttrs("positions", shape({s0, tokensDim})),
       argAttrs("logits", shape({s0, b.getAffineConstantExpr(vocab)}))}));

  Block *body = entry.addEntryBlock();
  b.setInsertionPointToStart(body);
  func::ReturnOp::create(b, graph.getLoc());
  b.setInsertionPointToStart(body);
  tokens = body->getArgument(0);
  positions = body->getArgument(1);
  logits = body->getArgument(2);
  Location loc = graph.getLoc();
  batch = memref::DimOp::create(b, loc, tokens, 0);
  bodyStart = batch.getDefiningOp();
  one = arith::ConstantIndexOp::create(b, loc, 1);
  seq = decode ? one : Value(memref::DimOp::create(b, loc, tokens, 1));
  const int64_t maxSeq = decode ? 1 : limits.maxSeqLen;
  batchRows = {batch, limits.maxBatch};
  tokenRows = decode ? batchRows
                     : Rows{affine::AffineApplyOp::create(
                                b, loc,
                                AffineMap::get(0, 2, s0 * b.getAffineSymbolExpr(1)),
                                ValueRange{batch, seq}),
                            limits.maxBatch * maxSeq};
  // The graph's tokens and positions are these arguments, one per token.
  Block &graphBody = graph.getBody().front();
  activations[graphBody.getArgument(0)] = {tokens, tokenRows.value,
                                           tokenRows.max, 1};
  activations[graphBody.getArgument(1)] = {positions, tokenRows.value,
                                           tokenRows.max, 1};
  returned = graphBody.getTerminator()->getOperand(0);
  return success();
}

void EntryLowering::planArena() {
  SmallVector<BufferLifetime> lifetimes;
  for (const ArenaUse &use : arenaUses)
    lifetimes.push_back({use.bytes, std::max<int64_t>(use.first, 0),
                         std::max(use.last, use.first)});
  BufferPlan plan = planBuffers(lifetimes, kArenaAlignment);
  for (auto [use, offset] : llvm::zip_equal(arenaUses, plan.offsets))
    use.op.setOffset(offset);
  entry->setAttr(kArenaBytesAttrName, b.getI64IntegerAttr(plan.bytes));
}

FailureOr<func::FuncOp> EntryLowering::run() {
  if (failed(createFunction()))
    return failure();
  b.setInsertionPoint(entry.getBody().front().getTerminator());
  for (Operation &op : graph.getBody().front())
    if (failed(lower(&op)))
      return failure();
  auto it = activations.find(returned);
  if (it == activations.end() || it->second.memref != logits)
    return graph.emitOpError() << "returns a value that is not the LM head's "
                                  "logits of the last position";
  planArena();
  return entry;
}

} // namespace

LogicalResult lathe::lowerToKernels(ModuleOp module,
                                    ArrayRef<const KernelTarget *> targets) {
  FailureOr<EntryLimits> limits = getEntryLimits(module);
  if (failed(limits))
    return failure();
  SmallVector<func::FuncOp> graphs;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(kEntryAttrName))
      graphs.push_back(func);
  if (graphs.empty())
    return module.emitError() << "has no entry (a func.func with "
                              << kEntryAttrName
                              << "; run lathe-specialize-entries)";
  if (!getTargetModules(module).empty())
    return module.emitError() << "already holds target modules: it is past "
                                 "phase kernels";

  KernelTable kernels(module, targets);
  for (func::FuncOp graph : graphs) {
    EntryLowering lowering(graph, kernels, *limits);
    FailureOr<func::FuncOp> entry = lowering.run();
    if (failed(entry))
      return failure();
    std::string name = graph.getSymName().str();
    graph.erase();
    entry->setSymName(name);
  }
  return success();
}

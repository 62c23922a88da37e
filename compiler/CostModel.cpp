//===- CostModel.cpp - FLOPs and bytes of a model graph -------------------===//
//
// Per token of the prefill (t = 0..P-1, attending to t + 1 positions) and
// for the decode step (attending to C + 1): projections cost 2·N·K FLOPs,
// MLA's absorbed attention 2·H·(dn·r + L·(r + dr) + L·r + r·dv) over L
// positions, a MoE layer its router plus top_k routed experts and its shared
// experts. Weights are read once per call: all of a layer's, except the
// routed experts, of which a decode step reads top_k and a prefill the
// expected number of distinct experts its P·top_k picks touch under uniform
// routing. The latent cache is f32; a call reads each cached row once and
// writes its new ones.
//
//===----------------------------------------------------------------------===//

#include "compiler/CostModel.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace lathe;
using llvm::formatv;

namespace {

double bytesOf(Value weight) {
  if (auto op = weight.getDefiningOp<WeightOp>())
    return static_cast<double>(op.getNumBytes());
  // A weight that is not a lathe.weight (a function argument): its type.
  auto type = cast<ShapedType>(weight.getType());
  return static_cast<double>(type.getNumElements()) *
         std::ceil(type.getElementTypeBitWidth() / 8.0);
}

double bytesOf(ValueRange weights) {
  double bytes = 0;
  for (Value weight : weights)
    bytes += bytesOf(weight);
  return bytes;
}

/// 2·N·K: one token through a [N, K] projection.
double projection(Value weight) {
  auto type = cast<ShapedType>(weight.getType());
  return 2.0 * static_cast<double>(type.getDimSize(0)) *
         static_cast<double>(type.getDimSize(1));
}

int64_t lastDim(Value value) {
  return cast<ShapedType>(value.getType()).getShape().back();
}

class Counter {
public:
  explicit Counter(const CostQuery &query)
      : P(static_cast<double>(query.promptTokens)),
        C(static_cast<double>(query.contextTokens)) {}

  /// Adds `op` to its part; fails on an op it cannot count.
  LogicalResult add(Operation *op);

  std::vector<PartCost> parts() const {
    std::vector<PartCost> result;
    auto it = byPart.find(kEmbedding);
    if (it != byPart.end())
      result.push_back(it->second);
    for (auto &[key, part] : byPart)
      if (key >= 0)
        result.push_back(part);
    it = byPart.find(kHead);
    if (it != byPart.end())
      result.push_back(it->second);
    return result;
  }

private:
  static constexpr int64_t kEmbedding = -2, kHead = -1;

  PartCost &part(Operation *op);
  /// FLOPs per token in both calls, weights read once per call.
  void perToken(PartCost &part, double flops, double weightBytes) {
    part.prefill.flops += P * flops;
    part.decode.flops += flops;
    part.prefill.weightBytes += weightBytes;
    part.decode.weightBytes += weightBytes;
  }
  void mla(MLAOp op);
  void moe(MoEOp op);
  /// The gate GEMM of a router (its top-k is not counted).
  void router(PartCost &cost, Value weight, Value bias);
  /// `topK` of `numExperts` SwiGLU experts per token.
  void routedExperts(PartCost &cost, int64_t numExperts, int64_t topK,
                     Value gate, Value up, Value down);

  const double P, C;
  std::map<int64_t, PartCost> byPart;
  /// The part of the last op that had weights: where a norm or an add
  /// without weights of its own belongs.
  int64_t current = kEmbedding;
};

PartCost &Counter::part(Operation *op) {
  std::optional<int64_t> layer;
  bool weights = false;
  for (Value operand : op->getOperands())
    if (auto weight = operand.getDefiningOp<WeightOp>()) {
      weights = true;
      if (std::optional<int64_t> l = weight.getLayer())
        layer = layer ? std::max(*layer, *l) : *l;
    }
  if (weights)
    current = layer ? *layer
                    : (isa<EmbeddingOp>(op) ? kEmbedding : kHead);
  PartCost &part = byPart[current];
  if (part.name.empty())
    part.name = current == kEmbedding ? "embedding"
                : current == kHead    ? "final norm, head"
                                      : formatv("layer {0}", current).str();
  return part;
}

void Counter::mla(MLAOp op) {
  PartCost &cost = part(op);
  const double H = op.getNumHeads(), dr = op.getQkRopeHeadDim(),
               r = op.getKvLoraRank();
  double projections = 0;
  SmallVector<Value> weights;
  for (Value w : {Value(op.getQProj()), Value(op.getQAProj()),
                  Value(op.getQBProj()), Value(op.getKvAProj()),
                  Value(op.getOProj())})
    if (w) {
      projections += projection(w);
      weights.push_back(w);
    }
  // The absorbed form applies kv_b_proj per head: q_nope · W_UK and
  // o_lat · W_UVᵀ, 2·H·r·(dn + dv) FLOPs, the same as projecting through it.
  projections += projection(op.getKvBProj());
  weights.push_back(op.getKvBProj());
  llvm::append_range(weights, op.getScales());
  for (Value norm : {Value(op.getQANorm()), Value(op.getKvANorm())})
    if (norm)
      weights.push_back(norm);
  perToken(cost, projections, bytesOf(weights));

  // Scores and values over L positions: 2·H·L·(2r + dr).
  auto attention = [&](double positions) {
    return 2.0 * H * positions * (2.0 * r + dr);
  };
  // Token t of the prefill attends to t + 1 positions: P (P + 1) / 2 in all.
  cost.prefill.flops += attention(P * (P + 1) / 2);
  cost.decode.flops += attention(C + 1);
  const double row = (r + dr) * 4.0;
  cost.prefill.cacheBytes += 2 * P * row;     // written, then read
  cost.decode.cacheBytes += (C + 1) * row + row;
}

void Counter::router(PartCost &cost, Value weight, Value bias) {
  SmallVector<Value> weights = {weight};
  if (bias)
    weights.push_back(bias);
  perToken(cost, projection(weight), bytesOf(weights));
}

void Counter::routedExperts(PartCost &cost, int64_t numExperts, int64_t topK,
                            Value gate, Value up, Value down) {
  const double experts = numExperts, topk = topK;
  const double flops = projection(gate) + projection(up) + projection(down);
  // An FP8 expert's block scales are under 0.01% of its bytes: not counted.
  const double bytes = bytesOf(gate) + bytesOf(up) + bytesOf(down);
  cost.prefill.flops += P * topk * flops;
  cost.decode.flops += topk * flops;
  // Distinct experts among P·top_k uniform picks.
  const double touched = experts * (1.0 - std::pow(1.0 - topk / experts, P));
  cost.prefill.weightBytes += touched * bytes;
  cost.decode.weightBytes += topk * bytes;
}

void Counter::moe(MoEOp op) {
  PartCost &cost = part(op);
  router(cost, op.getRouterWeight(), op.getCorrectionBias());
  routedExperts(cost, op.getNumExperts(), op.getTopK(), op.getExpertGate()[0],
                op.getExpertUp()[0], op.getExpertDown()[0]);
  if (Value sharedGate = op.getSharedGate())
    perToken(cost,
             projection(sharedGate) + projection(op.getSharedUp()) +
                 projection(op.getSharedDown()),
             bytesOf(ValueRange{sharedGate, op.getSharedUp(),
                                op.getSharedDown()}));
}

LogicalResult Counter::add(Operation *op) {
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<EmbeddingOp>([&](EmbeddingOp embedding) {
        PartCost &cost = part(embedding);
        auto table = cast<ShapedType>(embedding.getTable().getType());
        double row = static_cast<double>(table.getDimSize(1)) *
                     std::ceil(table.getElementTypeBitWidth() / 8.0);
        cost.prefill.weightBytes += P * row;
        cost.decode.weightBytes += row;
        return success();
      })
      .Case<RMSNormOp>([&](RMSNormOp norm) {
        PartCost &cost = part(norm);
        double flops = 4.0 * lastDim(norm.getInput());
        // The final norm of an entry runs on each row's last token only.
        double tokens =
            cast<ShapedType>(norm.getInput().getType()).getDimSize(1) == 1 ? 1
                                                                            : P;
        cost.prefill.flops += tokens * flops;
        cost.decode.flops += flops;
        cost.prefill.weightBytes += bytesOf(norm.getWeight());
        cost.decode.weightBytes += bytesOf(norm.getWeight());
        return success();
      })
      .Case<AddOp>([&](AddOp add) {
        perToken(part(add), lastDim(add.getLhs()), 0);
        return success();
      })
      .Case<LinearOp>([&](LinearOp linear) {
        SmallVector<Value> weights = {linear.getWeight()};
        llvm::append_range(weights, linear.getScales());
        perToken(part(linear), projection(linear.getWeight()),
                 bytesOf(weights));
        return success();
      })
      .Case<MLPOp>([&](MLPOp mlp) {
        SmallVector<Value> weights = {mlp.getGate(), mlp.getUp(),
                                      mlp.getDown()};
        double flops = projection(mlp.getGate()) + projection(mlp.getUp()) +
                       projection(mlp.getDown());
        llvm::append_range(weights, mlp.getScales());
        perToken(part(mlp), flops, bytesOf(weights));
        return success();
      })
      .Case<MLAOp>([&](MLAOp mla) {
        this->mla(mla);
        return success();
      })
      .Case<MoEOp>([&](MoEOp moe) {
        this->moe(moe);
        return success();
      })
      .Case<MoERouterOp>([&](MoERouterOp op) {
        router(part(op), op.getRouterWeight(), op.getCorrectionBias());
        return success();
      })
      .Case<MoEDispatchOp>([](MoEDispatchOp) { return success(); })
      .Case<MoEExpertsOp>([&](MoEExpertsOp op) {
        routedExperts(part(op), op.getNumExperts(),
                      cast<ShapedType>(op.getWeights().getType())
                          .getShape()
                          .back(),
                      op.getExpertGate()[0], op.getExpertUp()[0],
                      op.getExpertDown()[0]);
        return success();
      })
      .Case<LMHeadOp>([&](LMHeadOp head) {
        PartCost &cost = part(head);
        double flops = projection(head.getWeight());
        // @forward computes every position's logits; the entries only the
        // last one's.
        double tokens =
            cast<ShapedType>(head.getInput().getType()).getDimSize(1) == 1 ? 1
                                                                            : P;
        cost.prefill.flops += tokens * flops;
        cost.decode.flops += flops;
        cost.prefill.weightBytes += bytesOf(head.getWeight());
        cost.decode.weightBytes += bytesOf(head.getWeight());
        return success();
      })
      .Default([](Operation *op) -> LogicalResult {
        // Weights are counted by their users; index arithmetic, slices and
        // casts cost nothing.
        if (op->getDialect() &&
            op->getDialect()->getNamespace() == LatheDialect::getDialectNamespace() &&
            !isa<WeightOp>(op))
          return op->emitOpError() << "has no cost model";
        return success();
      });
}

/// Four significant digits: enough to see any term of a layer's count.
std::string significant(double value) {
  return llvm::formatv("{0}", llvm::format("%.4g", value)).str();
}
std::string gigas(double value) { return significant(value / 1e9); }
std::string megas(double value) { return significant(value / 1e6); }

} // namespace

FailureOr<std::vector<PartCost>> lathe::modelCost(ModuleOp module,
                                                  const CostQuery &query) {
  // The graph: @forward, else the prefill entry (decode has the same ops).
  func::FuncOp graph = module.lookupSymbol<func::FuncOp>("forward");
  if (!graph)
    graph = module.lookupSymbol<func::FuncOp>("prefill");
  if (!graph || graph.isExternal())
    return module.emitError()
           << "has no graph to count (func.func @forward or @prefill on "
              "tensors)";
  Counter counter(query);
  for (Operation &op : graph.getBody().front())
    if (failed(counter.add(&op)))
      return failure();
  return counter.parts();
}

void lathe::printCost(ArrayRef<PartCost> parts, const CostQuery &query,
                      llvm::raw_ostream &os) {
  os << formatv("cost per row: a prefill of {0} tokens from an empty cache, "
                "and one decode step after {1} cached positions\n",
                query.promptTokens, query.contextTokens);
  os << formatv("{0,-18} {1,14} {2,14} {3,14} {4,14} {5,14}\n", "part",
                "prefill GFLOP", "prefill MB", "decode MFLOP", "decode MB",
                "of which cache");
  Cost prefill, decode;
  for (const PartCost &part : parts) {
    os << formatv("{0,-18} {1,14} {2,14} {3,14} {4,14} {5,14}\n", part.name,
                  gigas(part.prefill.flops),
                  megas(part.prefill.weightBytes + part.prefill.cacheBytes),
                  megas(part.decode.flops),
                  megas(part.decode.weightBytes + part.decode.cacheBytes),
                  megas(part.decode.cacheBytes));
    prefill += part.prefill;
    decode += part.decode;
  }
  double prefillBytes = prefill.weightBytes + prefill.cacheBytes;
  double decodeBytes = decode.weightBytes + decode.cacheBytes;
  os << formatv("{0,-18} {1,14} {2,14} {3,14} {4,14} {5,14}\n", "total",
                gigas(prefill.flops), megas(prefillBytes),
                megas(decode.flops), megas(decodeBytes),
                megas(decode.cacheBytes));
  os << "prefill: "
     << significant(prefill.flops / 1e6 / static_cast<double>(query.promptTokens))
     << " MFLOP per token, " << significant(prefill.flops / prefillBytes)
     << " FLOP per byte read\n";
  os << "decode: " << significant(decodeBytes / 1e6) << " MB per step, "
     << significant(decode.flops / decodeBytes)
     << " FLOP per byte read: bandwidth-bound at "
     << significant(100e9 / decodeBytes) << " tokens/s per 100 GB/s\n";
}

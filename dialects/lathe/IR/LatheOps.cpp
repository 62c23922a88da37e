//===- LatheOps.cpp - verifiers and builders of the lathe ops -------------===//
//
// Every diagnostic names the operand by its role in the op and, when the
// operand is a checkpoint tensor, by its tensor name, so that a user can find
// the offending tensor in their checkpoint.
//
//===----------------------------------------------------------------------===//

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace lathe;

bool lathe::isFP8(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type>(getElementTypeOrSelf(type));
}

namespace {

/// `role` and, for a checkpoint tensor, `role ('tensor.name')`.
std::string describe(Value value, StringRef role) {
  if (auto weight = value.getDefiningOp<WeightOp>())
    return llvm::formatv("{0} ('{1}')", role, weight.getTensorName()).str();
  return role.str();
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os, [&](int64_t dim) {
    if (ShapedType::isDynamic(dim))
      os << '?';
    else
      os << dim;
  });
  os << ']';
  return text;
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

bool isFP8(Value value) { return lathe::isFP8(value.getType()); }

/// Checks that `value` has exactly `expected` as its shape; `why` says where
/// the expectation comes from.
LogicalResult expectShape(Operation *op, Value value, StringRef role,
                          ArrayRef<int64_t> expected, StringRef why) {
  ArrayRef<int64_t> actual = shapeOf(value);
  if (actual == expected)
    return success();
  return op->emitOpError() << describe(value, role) << " has shape "
                           << shapeString(actual) << " but " << why
                           << " needs " << shapeString(expected);
}

/// Activations are `[..., features]` with a static feature dim.
FailureOr<int64_t> staticLastDim(Operation *op, Value value, StringRef role,
                                 unsigned minRank = 1) {
  ArrayRef<int64_t> shape = shapeOf(value);
  if (shape.size() < minRank)
    return op->emitOpError() << role << " must have rank at least " << minRank
                             << ", got " << shapeString(shape);
  if (ShapedType::isDynamic(shape.back()))
    return op->emitOpError() << role << " must have a static last dim, got "
                             << shapeString(shape);
  return shape.back();
}

/// A weight operand as checkpoints store it: statically shaped, of rank
/// `rank`; `layout` names its dims for the message (`[out, in]`).
FailureOr<ArrayRef<int64_t>> staticWeightShape(Operation *op, Value value,
                                               StringRef role, size_t rank,
                                               StringRef layout) {
  ArrayRef<int64_t> shape = shapeOf(value);
  if (shape.size() != rank)
    return op->emitOpError() << describe(value, role) << " must be " << layout
                             << ", got " << shapeString(shape);
  if (!ShapedType::isStaticShape(shape))
    return op->emitOpError()
           << describe(value, role) << " must have a static shape, got "
           << shapeString(shape);
  return shape;
}

/// The first `count` dims of `a` and `b` must be compatible.
LogicalResult verifyLeadingDims(Operation *op, Value a, StringRef aRole,
                                Value b, StringRef bRole, size_t count) {
  ArrayRef<int64_t> aShape = shapeOf(a), bShape = shapeOf(b);
  if (aShape.size() < count || bShape.size() < count ||
      failed(verifyCompatibleShape(aShape.take_front(count),
                                   bShape.take_front(count))))
    return op->emitOpError()
           << "leading dims of " << aRole << " " << shapeString(aShape)
           << " and " << bRole << " " << shapeString(bShape) << " disagree";
  return success();
}

LogicalResult expectPositive(Operation *op, StringRef name, int64_t value) {
  if (value > 0)
    return success();
  return op->emitOpError() << name << " must be positive, got " << value;
}

LogicalResult expectPositive(Operation *op, StringRef name, double value) {
  if (value > 0.0 && std::isfinite(value))
    return success();
  return op->emitOpError() << name << " must be positive and finite, got "
                           << value;
}

struct NamedWeight {
  std::string role;
  Value value;
};

/// The block-scale rule shared by every op that takes weights: one
/// `[ceil(out/bo), ceil(in/bi)]` f32 scale per FP8 weight, in operand order,
/// and `block_size = [bo, bi]` exactly when some weight is FP8.
LogicalResult verifyBlockScales(Operation *op, ArrayRef<NamedWeight> weights,
                                ValueRange scales,
                                std::optional<ArrayRef<int64_t>> blockSize) {
  SmallVector<const NamedWeight *> fp8;
  for (const NamedWeight &weight : weights)
    if (isFP8(weight.value))
      fp8.push_back(&weight);

  if (fp8.empty()) {
    if (!scales.empty())
      return op->emitOpError() << "has " << scales.size()
                               << " scale operand(s) but no FP8 weight";
    if (blockSize)
      return op->emitOpError() << "has block_size but no FP8 weight";
    return success();
  }
  if (!blockSize)
    return op->emitOpError()
           << describe(fp8.front()->value, fp8.front()->role)
           << " is FP8 but the op has no block_size";
  if (blockSize->size() != 2 || (*blockSize)[0] <= 0 || (*blockSize)[1] <= 0)
    return op->emitOpError() << "block_size must be two positive sizes, got "
                             << shapeString(*blockSize);
  if (scales.size() != fp8.size())
    return op->emitOpError() << "has " << scales.size()
                             << " scale operand(s) but " << fp8.size()
                             << " FP8 weight(s); each FP8 weight needs one";
  for (auto [weight, scale] : llvm::zip_equal(fp8, scales)) {
    ArrayRef<int64_t> shape = shapeOf(weight->value);
    if (shape.size() != 2)
      return op->emitOpError() << describe(weight->value, weight->role)
                               << " must be 2-D to be block-scaled";
    SmallVector<int64_t> expected = {
        llvm::divideCeilSigned(shape[0], (*blockSize)[0]),
        llvm::divideCeilSigned(shape[1], (*blockSize)[1])};
    if (shapeOf(scale) != ArrayRef<int64_t>(expected))
      return op->emitOpError()
             << "scale of " << describe(weight->value, weight->role)
             << " has shape " << shapeString(shapeOf(scale)) << " but block "
             << shapeString(*blockSize) << " over " << shapeString(shape)
             << " needs " << shapeString(expected);
  }
  return success();
}

/// `input.shape[:-1] + [features]`, with the given element type.
RankedTensorType replaceLastDim(Value input, int64_t features,
                                Type elementType) {
  SmallVector<int64_t> shape(shapeOf(input));
  shape.back() = features;
  return RankedTensorType::get(shape, elementType);
}

/// Result shape must be `input.shape[:-1] + [features]`.
LogicalResult verifyProjectionResult(Operation *op, Value input, Value result,
                                     int64_t features) {
  SmallVector<int64_t> expected(shapeOf(input));
  expected.back() = features;
  if (failed(verifyCompatibleShape(shapeOf(result), expected)))
    return op->emitOpError() << "result has shape "
                             << shapeString(shapeOf(result)) << " but needs "
                             << shapeString(expected);
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getTensorName().empty())
    return emitOpError() << "needs a non-empty tensor name";
  if (getFile().empty())
    return emitOpError() << "'" << getTensorName() << "' names no file";
  // I64Attr's getter is unsigned; the sign lives in the attribute.
  int64_t offset = getOffsetAttr().getInt();
  if (offset < 0)
    return emitOpError() << "'" << getTensorName() << "' has negative offset "
                         << offset;
  if (!getShapedType().hasStaticShape())
    return emitOpError() << "'" << getTensorName()
                         << "' must have a static shape, got "
                         << shapeString(getShapedType().getShape());
  return success();
}

/// `model.layers.3.self_attn.kv_b_proj.weight` -> `l3_kv_b_proj`,
/// `model.layers.1.mlp.experts.7.up_proj.weight_scale_inv` ->
/// `l1_experts_7_up_proj_scale_inv`, `model.embed_tokens.weight` ->
/// `embed_tokens`: the checkpoint's name without the words every tensor
/// shares. The printer makes repeated names unique.
void WeightOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  StringRef name = getTensorName();
  name.consume_front("model.");
  std::string result;
  if (name.consume_front("layers.")) {
    auto [layer, rest] = name.split('.');
    result = ("l" + layer + "_").str();
    name = rest;
  }
  name.consume_front("self_attn.");
  name.consume_front("mlp.");
  std::string tail = name.str();
  for (StringRef suffix : {".weight_scale_inv", ".weight"}) {
    if (StringRef(tail).ends_with(suffix)) {
      tail.resize(tail.size() - suffix.size());
      if (suffix == ".weight_scale_inv")
        tail += "_scale_inv";
      break;
    }
  }
  result += tail;
  std::replace(result.begin(), result.end(), '.', '_');
  if (result.empty() || llvm::isDigit(result.front()))
    result.insert(0, "w");
  setNameFn(getResult(), result);
}

std::optional<int64_t> WeightOp::getLayer() {
  StringRef name = getTensorName();
  int64_t layer;
  if (!name.consume_front("model.layers.") || name.consumeInteger(10, layer) ||
      !name.starts_with("."))
    return std::nullopt;
  return layer;
}

int64_t WeightOp::getNumBytes() {
  ShapedType type = getShapedType();
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

//===----------------------------------------------------------------------===//
// RMSNormOp
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  FailureOr<int64_t> hidden = staticLastDim(*this, getInput(), "input");
  if (failed(hidden))
    return failure();
  if (failed(expectShape(*this, getWeight(), "weight", {*hidden},
                         "the input's last dim")))
    return failure();
  return expectPositive(*this, "eps", getEps().convertToDouble());
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

RankedTensorType EmbeddingOp::inferResultType(Value tokens, Value table) {
  SmallVector<int64_t> shape(shapeOf(tokens));
  shape.push_back(shapeOf(table)[1]);
  return RankedTensorType::get(shape, Float32Type::get(tokens.getContext()));
}

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> tokens = shapeOf(getTokens());
  ArrayRef<int64_t> result = shapeOf(getResult());
  if (result.size() != tokens.size() + 1)
    return emitOpError() << "result must have rank " << tokens.size() + 1
                         << " (tokens' rank + 1), got " << shapeString(result);
  if (failed(verifyLeadingDims(*this, getTokens(), "tokens", getResult(),
                               "result", tokens.size())))
    return failure();
  FailureOr<ArrayRef<int64_t>> table =
      staticWeightShape(*this, getTable(), "table", 2, "[vocab, hidden]");
  if (failed(table))
    return failure();
  int64_t width = (*table)[1];
  if (!ShapedType::isDynamic(result.back()) && result.back() != width)
    return emitOpError() << "result's last dim " << result.back()
                         << " differs from " << describe(getTable(), "table")
                         << " width " << width;
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp and LMHeadOp
//===----------------------------------------------------------------------===//

RankedTensorType LinearOp::inferResultType(Value input, Value weight) {
  return replaceLastDim(input, shapeOf(weight)[0],
                        getElementTypeOrSelf(input));
}

LogicalResult LinearOp::verify() {
  FailureOr<ArrayRef<int64_t>> weightOr =
      staticWeightShape(*this, getWeight(), "weight", 2, "[out, in]");
  if (failed(weightOr))
    return failure();
  ArrayRef<int64_t> weight = *weightOr;
  FailureOr<int64_t> in = staticLastDim(*this, getInput(), "input");
  if (failed(in))
    return failure();
  if (*in != weight[1])
    return emitOpError() << "input has " << *in << " features but "
                         << describe(getWeight(), "weight") << " "
                         << shapeString(weight) << " takes " << weight[1];
  if (getElementTypeOrSelf(getResult()) != getElementTypeOrSelf(getInput()))
    return emitOpError() << "result element type must match the input's";
  if (failed(verifyProjectionResult(*this, getInput(), getResult(), weight[0])))
    return failure();
  return verifyBlockScales(*this, {{"weight", getWeight()}}, getScales(),
                           getBlockSize());
}

void LMHeadOp::build(OpBuilder &builder, OperationState &state, Value input,
                     Value weight) {
  build(builder, state,
        replaceLastDim(input, shapeOf(weight)[0], builder.getF32Type()), input,
        weight);
}

LogicalResult LMHeadOp::verify() {
  FailureOr<int64_t> hidden = staticLastDim(*this, getInput(), "input");
  if (failed(hidden))
    return failure();
  FailureOr<ArrayRef<int64_t>> weightOr =
      staticWeightShape(*this, getWeight(), "weight", 2, "[vocab, hidden]");
  if (failed(weightOr))
    return failure();
  ArrayRef<int64_t> weight = *weightOr;
  if (weight[1] != *hidden)
    return emitOpError() << "input has " << *hidden << " features but "
                         << describe(getWeight(), "weight") << " "
                         << shapeString(weight) << " takes " << weight[1];
  return verifyProjectionResult(*this, getInput(), getResult(), weight[0]);
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (input.size() != 3 && input.size() != 4)
    return emitOpError()
           << "input must be [batch, seq, dim] or [batch, seq, heads, dim], got "
           << shapeString(input);
  if (shapeOf(getPositions()).size() != 2)
    return emitOpError() << "positions must be [batch, seq], got "
                         << shapeString(shapeOf(getPositions()));
  if (failed(verifyLeadingDims(*this, getInput(), "input", getPositions(),
                               "positions", 2)))
    return failure();
  FailureOr<int64_t> dim = staticLastDim(*this, getInput(), "input");
  if (failed(dim))
    return failure();
  if (*dim % 2 != 0)
    return emitOpError() << "rotates pairs, so the last dim must be even, got "
                         << *dim;
  return success();
}

//===----------------------------------------------------------------------===//
// MLPOp
//===----------------------------------------------------------------------===//

/// SwiGLU weights: gate and up `[inter, hidden]`, down `[hidden, inter]`.
static LogicalResult verifySwiGLUWeights(Operation *op, int64_t hidden,
                                         Value gate, Value up, Value down,
                                         StringRef prefix) {
  std::string gateRole = (prefix + "gate").str();
  ArrayRef<int64_t> gateShape = shapeOf(gate);
  if (gateShape.size() != 2 || gateShape[1] != hidden)
    return op->emitOpError()
           << describe(gate, gateRole) << " has shape "
           << shapeString(gateShape) << " but must be [inter, " << hidden
           << "] for hidden size " << hidden;
  if (ShapedType::isDynamic(gateShape[0]))
    return op->emitOpError()
           << describe(gate, gateRole) << " must have a static shape, got "
           << shapeString(gateShape);
  int64_t inter = gateShape[0];
  if (failed(expectShape(op, up, (prefix + "up").str(), {inter, hidden},
                         "its gate")) ||
      failed(expectShape(op, down, (prefix + "down").str(), {hidden, inter},
                         "its gate")))
    return failure();
  return success();
}

LogicalResult MLPOp::verify() {
  FailureOr<int64_t> hidden = staticLastDim(*this, getInput(), "input");
  if (failed(hidden) ||
      failed(verifySwiGLUWeights(*this, *hidden, getGate(), getUp(), getDown(),
                                 "")))
    return failure();
  return verifyBlockScales(
      *this, {{"gate", getGate()}, {"up", getUp()}, {"down", getDown()}},
      getScales(), getBlockSize());
}

//===----------------------------------------------------------------------===//
// MLAOp
//===----------------------------------------------------------------------===//

void MLAOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (!getKvCacheLayer())
    return;
  effects.emplace_back(MemoryEffects::Read::get(), KVCacheResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), KVCacheResource::get());
}

LogicalResult MLAOp::verify() {
  if (std::optional<uint64_t> layer = getKvCacheLayer();
      layer && static_cast<int64_t>(*layer) < 0)
    return emitOpError() << "kv_cache_layer must be non-negative, got "
                         << static_cast<int64_t>(*layer);
  if (shapeOf(getInput()).size() != 3)
    return emitOpError() << "input must be [batch, seq, hidden], got "
                         << shapeString(shapeOf(getInput()));
  FailureOr<int64_t> hiddenOr = staticLastDim(*this, getInput(), "input");
  if (failed(hiddenOr))
    return failure();
  if (shapeOf(getPositions()).size() != 2)
    return emitOpError() << "positions must be [batch, seq], got "
                         << shapeString(shapeOf(getPositions()));
  if (failed(verifyLeadingDims(*this, getInput(), "input", getPositions(),
                               "positions", 2)))
    return failure();

  const int64_t hidden = *hiddenOr, heads = getNumHeads(),
                kvRank = getKvLoraRank(), nope = getQkNopeHeadDim(),
                rope = getQkRopeHeadDim(), v = getVHeadDim();
  if (failed(expectPositive(*this, "num_heads", heads)) ||
      failed(expectPositive(*this, "kv_lora_rank", kvRank)) ||
      failed(expectPositive(*this, "qk_nope_head_dim", nope)) ||
      failed(expectPositive(*this, "qk_rope_head_dim", rope)) ||
      failed(expectPositive(*this, "v_head_dim", v)) ||
      failed(expectPositive(*this, "softmax_scale",
                            getSoftmaxScale().convertToDouble())) ||
      failed(expectPositive(*this, "rms_norm_eps",
                            getRmsNormEps().convertToDouble())))
    return failure();
  if (rope % 2 != 0)
    return emitOpError() << "qk_rope_head_dim must be even (RoPE rotates "
                            "pairs), got "
                         << rope;
  // The weight shapes below multiply these; a product past int64 is no shape.
  std::optional<int64_t> headWidth = llvm::checkedAdd(nope, rope);
  if (headWidth)
    headWidth = llvm::checkedAdd(*headWidth, v);
  if (headWidth)
    headWidth = llvm::checkedMul(heads, *headWidth);
  if (!headWidth || !llvm::checkedAdd(kvRank, rope))
    return emitOpError() << "head dims overflow int64";

  const int64_t qWidth = heads * (nope + rope);
  SmallVector<NamedWeight> weights;
  bool lora = getQAProj() || getQANorm() || getQBProj();
  if (getQProj() && lora)
    return emitOpError() << "takes either q_proj or the q_lora path "
                            "(q_a_proj, q_a_norm, q_b_proj), not both";
  if (lora) {
    if (!getQAProj() || !getQANorm() || !getQBProj())
      return emitOpError() << "q_lora path needs q_a_proj, q_a_norm and "
                              "q_b_proj together";
    if (!getQLoraRank())
      return emitOpError() << "has a q_lora path but no q_lora_rank";
    int64_t qRank = *getQLoraRank();
    if (failed(expectPositive(*this, "q_lora_rank", qRank)) ||
        failed(expectShape(*this, getQAProj(), "q_a_proj", {qRank, hidden},
                           "[q_lora_rank, hidden]")) ||
        failed(expectShape(*this, getQANorm(), "q_a_norm", {qRank},
                           "[q_lora_rank]")) ||
        failed(expectShape(*this, getQBProj(), "q_b_proj", {qWidth, qRank},
                           "[num_heads * (qk_nope_head_dim + "
                           "qk_rope_head_dim), q_lora_rank]")))
      return failure();
    weights.push_back({"q_a_proj", getQAProj()});
    weights.push_back({"q_b_proj", getQBProj()});
  } else {
    if (!getQProj())
      return emitOpError() << "needs q_proj or the q_lora path";
    if (getQLoraRank())
      return emitOpError() << "has q_lora_rank but no q_lora path";
    if (failed(expectShape(*this, getQProj(), "q_proj", {qWidth, hidden},
                           "[num_heads * (qk_nope_head_dim + "
                           "qk_rope_head_dim), hidden]")))
      return failure();
    weights.push_back({"q_proj", getQProj()});
  }

  if (failed(expectShape(*this, getKvAProj(), "kv_a_proj",
                         {kvRank + rope, hidden},
                         "[kv_lora_rank + qk_rope_head_dim, hidden]")) ||
      failed(expectShape(*this, getKvANorm(), "kv_a_norm", {kvRank},
                         "[kv_lora_rank]")) ||
      failed(expectShape(*this, getKvBProj(), "kv_b_proj",
                         {heads * (nope + v), kvRank},
                         "[num_heads * (qk_nope_head_dim + v_head_dim), "
                         "kv_lora_rank]")) ||
      failed(expectShape(*this, getOProj(), "o_proj", {hidden, heads * v},
                         "[hidden, num_heads * v_head_dim]")))
    return failure();
  weights.push_back({"kv_a_proj", getKvAProj()});
  weights.push_back({"kv_b_proj", getKvBProj()});
  weights.push_back({"o_proj", getOProj()});
  return verifyBlockScales(*this, weights, getScales(), getBlockSize());
}

//===----------------------------------------------------------------------===//
// MoEOp
//===----------------------------------------------------------------------===//

/// The router's weight, bias and attributes, shared by lathe.moe and
/// lathe.moe_router; returns the number of experts.
static FailureOr<int64_t>
verifyRouter(Operation *op, int64_t hidden, Value routerWeight, Value bias,
             int64_t topK, int64_t groups, int64_t topkGroup, double scaling) {
  FailureOr<ArrayRef<int64_t>> routerOr = staticWeightShape(
      op, routerWeight, "router_weight", 2, "[experts, hidden]");
  if (failed(routerOr))
    return failure();
  ArrayRef<int64_t> router = *routerOr;
  if (router[1] != hidden)
    return op->emitOpError() << describe(routerWeight, "router_weight")
                             << " has shape " << shapeString(router)
                             << " but must be [experts, " << hidden << "]";
  const int64_t experts = router[0];
  if (failed(expectPositive(op, "number of experts", experts)))
    return failure();
  if (bias && failed(expectShape(op, bias, "correction_bias", {experts},
                                 "one entry per expert")))
    return failure();
  if (topK < 1 || topK > experts)
    return op->emitOpError() << "top_k must be in [1, " << experts
                             << "], got " << topK;
  if (groups < 1 || experts % groups != 0)
    return op->emitOpError() << "n_group must divide the " << experts
                             << " experts, got " << groups;
  if (topkGroup < 1 || topkGroup > groups)
    return op->emitOpError() << "topk_group must be in [1, n_group = "
                             << groups << "], got " << topkGroup;
  if (topK > topkGroup * (experts / groups))
    return op->emitOpError() << "top_k = " << topK << " exceeds the "
                             << topkGroup * (experts / groups)
                             << " experts of the topk_group kept groups";
  // With a correction bias, a group scores the sum of its two best experts.
  if (bias && groups > 1 && experts / groups < 2)
    return op->emitOpError() << "with correction_bias a group scores its "
                                "top-2 experts, but n_group = "
                             << groups << " leaves " << experts / groups
                             << " expert per group";
  if (failed(expectPositive(op, "routed_scaling_factor", scaling)))
    return failure();
  return experts;
}

/// `experts` routed SwiGLU experts of one shape (`counter` says what
/// counted them: "router_weight scores"); appends their weights, in operand
/// order, to `weights`.
static LogicalResult verifyRoutedExperts(Operation *op, StringRef counter,
                                         int64_t hidden,
                                         int64_t experts, OperandRange gate,
                                         OperandRange up, OperandRange down,
                                         SmallVectorImpl<NamedWeight> &weights) {
  for (auto [group, values] : {std::pair<StringRef, OperandRange>{"expert_gate", gate},
                               {"expert_up", up},
                               {"expert_down", down}})
    if (static_cast<int64_t>(values.size()) != experts)
      return op->emitOpError() << counter << " " << experts
                               << " experts but " << group << " has "
                               << values.size();
  for (int64_t e = 0; e < experts; ++e) {
    std::string prefix = llvm::formatv("expert {0} ", e).str();
    if (failed(verifySwiGLUWeights(op, hidden, gate[e], up[e], down[e],
                                   prefix)))
      return failure();
    if (shapeOf(gate[e]) != shapeOf(gate[0]))
      return op->emitOpError() << describe(gate[e], prefix + "gate")
                               << " differs in shape from expert 0's";
  }
  for (auto [group, values] : {std::pair<StringRef, OperandRange>{"gate", gate},
                               {"up", up},
                               {"down", down}})
    for (auto [e, value] : llvm::enumerate(values))
      weights.push_back(
          {llvm::formatv("expert {0} {1}", e, group).str(), value});
  return success();
}

/// `value` is `[leading..., last]`: `input`'s leading dims, then `last`.
static LogicalResult expectPerToken(Operation *op, Value input, Value value,
                                    StringRef role, int64_t last) {
  SmallVector<int64_t> expected(shapeOf(input));
  expected.back() = last;
  if (shapeOf(value).size() == expected.size() &&
      succeeded(verifyCompatibleShape(shapeOf(value), expected)))
    return success();
  return op->emitOpError() << role << " has shape "
                           << shapeString(shapeOf(value)) << " but needs "
                           << shapeString(expected);
}

LogicalResult MoEOp::verify() {
  FailureOr<int64_t> hidden = staticLastDim(*this, getInput(), "input");
  if (failed(hidden))
    return failure();
  FailureOr<int64_t> experts = verifyRouter(
      *this, *hidden, getRouterWeight(), getCorrectionBias(), getTopK(),
      getNGroup(), getTopkGroup(), getRoutedScalingFactor().convertToDouble());
  if (failed(experts))
    return failure();
  SmallVector<NamedWeight> weights;
  if (failed(verifyRoutedExperts(*this, "router_weight scores", *hidden,
                                 *experts, getExpertGate(),
                                 getExpertUp(), getExpertDown(), weights)))
    return failure();
  bool anyShared = getSharedGate() || getSharedUp() || getSharedDown();
  if (anyShared) {
    if (!getSharedGate() || !getSharedUp() || !getSharedDown())
      return emitOpError() << "shared experts need gate, up and down together";
    if (failed(verifySwiGLUWeights(*this, *hidden, getSharedGate(),
                                   getSharedUp(), getSharedDown(), "shared ")))
      return failure();
    weights.push_back({"shared gate", getSharedGate()});
    weights.push_back({"shared up", getSharedUp()});
    weights.push_back({"shared down", getSharedDown()});
  }
  return verifyBlockScales(*this, weights, getScales(), getBlockSize());
}

//===----------------------------------------------------------------------===//
// Fused MoE
//===----------------------------------------------------------------------===//

LogicalResult MoERouterOp::verify() {
  FailureOr<int64_t> hidden = staticLastDim(*this, getInput(), "input");
  if (failed(hidden) ||
      failed(verifyRouter(*this, *hidden, getRouterWeight(),
                          getCorrectionBias(), getTopK(), getNGroup(),
                          getTopkGroup(),
                          getRoutedScalingFactor().convertToDouble())))
    return failure();
  if (failed(expectPerToken(*this, getInput(), getIds(), "ids", getTopK())))
    return failure();
  return expectPerToken(*this, getInput(), getWeights(), "weights", getTopK());
}

LogicalResult MoEDispatchOp::verify() {
  const int64_t experts = getNumExperts(), tile = getMTile();
  if (failed(expectPositive(*this, "num_experts", experts)) ||
      failed(expectPositive(*this, "m_tile", tile)))
    return failure();
  if (shapeOf(getIds()).empty())
    return emitOpError() << "ids must have rank at least 1 (the last dim "
                            "holds each token's choices)";
  if (failed(expectShape(*this, getOffsets(), "offsets", {experts + 1},
                         "one entry per expert and one past the last")))
    return failure();
  return success();
}

LogicalResult MoEExpertsOp::verify() {
  FailureOr<int64_t> hidden = staticLastDim(*this, getInput(), "input");
  if (failed(hidden))
    return failure();
  FailureOr<int64_t> topK = staticLastDim(*this, getWeights(), "weights");
  if (failed(topK) ||
      failed(expectPerToken(*this, getInput(), getWeights(), "weights", *topK)))
    return failure();
  const int64_t experts = getNumExperts();
  if (failed(expectPositive(*this, "number of experts", experts)) ||
      failed(expectShape(*this, getOffsets(), "offsets", {experts + 1},
                         "one entry per expert and one past the last")))
    return failure();
  if (Value acc = getAccumulate(); acc && acc.getType() != getInput().getType())
    return emitOpError() << "accumulate has type " << acc.getType()
                         << " but must match input's " << getInput().getType();
  SmallVector<NamedWeight> weights;
  if (failed(verifyRoutedExperts(*this, "expert_gate holds", *hidden,
                                 experts, getExpertGate(),
                                 getExpertUp(), getExpertDown(), weights)))
    return failure();
  return verifyBlockScales(*this, weights, getScales(), getBlockSize());
}

#define GET_OP_CLASSES
#include "dialects/lathe/IR/LatheOps.cpp.inc"

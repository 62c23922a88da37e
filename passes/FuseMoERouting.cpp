//===- FuseMoERouting.cpp - lathe.moe into router, dispatch, experts ------===//
//
// lathe.moe says what a DeepSeek MoE block computes; run naively it is a
// router of half a dozen small ops and experts one at a time. This pass
// states the fused form in the graph: one router op, one dispatch, the
// shared experts as a plain MLP, and the routed experts as one op that
// targets run as two grouped GEMMs with the epilogues doing SwiGLU, the
// routing weight and the scatter-add.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace lathe {
#define GEN_PASS_DEF_FUSEMOEROUTING
#include "passes/Passes.h.inc"
} // namespace lathe

using namespace mlir;
using namespace lathe;

namespace {

/// `input`'s type with its last dim replaced by `last` and element `type`.
RankedTensorType perToken(Value input, int64_t last, Type type) {
  SmallVector<int64_t> shape(cast<RankedTensorType>(input.getType()).getShape());
  shape.back() = last;
  return RankedTensorType::get(shape, type);
}

void fuse(MoEOp moe, int64_t mTile) {
  OpBuilder b(moe);
  Location loc = moe.getLoc();
  Value input = moe.getInput();
  const int64_t experts = moe.getNumExperts(), topK = moe.getTopK();

  auto router = MoERouterOp::create(
      b, loc, perToken(input, topK, b.getI32Type()),
      perToken(input, topK, b.getF32Type()), input, moe.getRouterWeight(),
      moe.getCorrectionBias(), moe.getScoring(), topK, moe.getNGroup(),
      moe.getTopkGroup(), moe.getNormTopkProb(),
      moe.getRoutedScalingFactor());
  auto dispatch = MoEDispatchOp::create(
      b, loc, RankedTensorType::get({experts + 1}, b.getI32Type()),
      RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type()),
      router.getIds(), experts, mTile);

  // lathe.moe's scales follow its FP8 weights in operand order: the routed
  // experts' first, then the shared experts'.
  int64_t routedScales = 0;
  for (OperandRange group :
       {moe.getExpertGate(), moe.getExpertUp(), moe.getExpertDown()})
    routedScales += llvm::count_if(
        group, [](Value w) { return isFP8(w.getType()); });
  ValueRange scales = moe.getScales();
  DenseI64ArrayAttr block = moe.getBlockSizeAttr();
  auto blockIf = [&](ValueRange used) {
    return used.empty() ? DenseI64ArrayAttr() : block;
  };

  Value shared;
  if (moe.getSharedGate()) {
    ValueRange sharedScales = scales.drop_front(routedScales);
    shared = MLPOp::create(b, loc, input.getType(), input, moe.getSharedGate(),
                           moe.getSharedUp(), moe.getSharedDown(),
                           sharedScales, blockIf(sharedScales));
  }
  ValueRange expertScales = scales.take_front(routedScales);
  auto routed = MoEExpertsOp::create(
      b, loc, input.getType(), input, router.getWeights(),
      dispatch.getOffsets(), dispatch.getOrder(), moe.getExpertGate(),
      moe.getExpertUp(), moe.getExpertDown(), shared, expertScales,
      blockIf(expertScales));
  moe.getResult().replaceAllUsesWith(routed.getResult());
  moe.erase();
}

struct FuseMoERoutingPass
    : public lathe::impl::FuseMoERoutingBase<FuseMoERoutingPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mTile < 1) {
      emitError(getOperation()->getLoc())
          << "lathe-fuse-moe-routing: m-tile must be positive, got "
          << static_cast<int64_t>(mTile);
      return signalPassFailure();
    }
    SmallVector<MoEOp> blocks;
    getOperation()->walk([&](MoEOp moe) { blocks.push_back(moe); });
    for (MoEOp moe : blocks)
      fuse(moe, mTile);
  }
};

} // namespace

//===- SpecializeEntries.cpp - @forward into @prefill and @decode ---------===//

#include "passes/Passes.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <algorithm>

namespace lathe {
#define GEN_PASS_DEF_SPECIALIZEENTRIES
#include "passes/Passes.h.inc"
} // namespace lathe

using namespace mlir;
using namespace lathe;

FailureOr<EntryLimits> lathe::getEntryLimits(ModuleOp module) {
  auto limits = module->getAttrOfType<DictionaryAttr>(kLimitsAttrName);
  auto maxBatch = limits ? limits.getAs<IntegerAttr>("max_batch") : nullptr;
  auto maxSeqLen = limits ? limits.getAs<IntegerAttr>("max_seq_len") : nullptr;
  if (!maxBatch || !maxSeqLen)
    return module.emitError()
           << "needs " << kLimitsAttrName
           << " = {max_batch, max_seq_len} (run lathe-specialize-entries)";
  return EntryLimits{maxBatch.getInt(), maxSeqLen.getInt()};
}

namespace {

constexpr int64_t kDefaultMaxSeqLen = 4096;

/// The logits of each row's last position: slices the rows of the hidden
/// state that the final norm and the LM head need, then rebuilds both on the
/// slice. `head` is the function's lathe.lm_head.
LogicalResult keepLastPosition(LMHeadOp head) {
  OpBuilder builder(head);
  Location loc = head.getLoc();
  // Slice before the final norm when there is one: it is row-wise.
  auto norm = head.getInput().getDefiningOp<RMSNormOp>();
  Value rows = norm ? norm.getInput() : head.getInput();
  auto type = cast<RankedTensorType>(rows.getType());
  if (type.getRank() != 3)
    return head.emitOpError() << "expected [batch, seq, hidden] input, got "
                              << type;
  builder.setInsertionPointAfterValue(rows);
  Value batch = tensor::DimOp::create(builder, loc, rows, 0);
  Value seq = tensor::DimOp::create(builder, loc, rows, 1);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value last = arith::SubIOp::create(builder, loc, seq, one);
  auto sliceType = RankedTensorType::get({type.getDimSize(0), 1, type.getDimSize(2)},
                                         type.getElementType());
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  SmallVector<OpFoldResult> offsets = {zero, last, zero};
  SmallVector<OpFoldResult> sizes = {batch, builder.getIndexAttr(1),
                                     builder.getIndexAttr(type.getDimSize(2))};
  SmallVector<OpFoldResult> strides(3, builder.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(builder, loc, sliceType, rows,
                                               offsets, sizes, strides);

  builder.setInsertionPoint(head);
  Value input = slice;
  if (norm)
    input = RMSNormOp::create(builder, norm.getLoc(), sliceType, slice,
                              norm.getWeight(), norm.getEpsAttr());
  auto newHead = LMHeadOp::create(builder, loc, input, head.getWeight());
  head.getResult().replaceAllUsesWith(newHead.getResult());
  head.erase();
  if (norm && norm->use_empty())
    norm.erase();
  return success();
}

/// A copy of `forward` named `name` whose logits result covers the last
/// position only and whose MLA ops use the KV cache. With `singleToken`, the
/// tokens and positions are typed `[batch, 1]`.
FailureOr<func::FuncOp> specialize(func::FuncOp forward, StringRef name,
                                   bool singleToken) {
  OpBuilder builder(forward);
  auto entry = cast<func::FuncOp>(builder.clone(*forward));
  entry.setSymName(name);
  entry->setAttr(kEntryAttrName, builder.getStringAttr(name));

  Block &body = entry.getBody().front();
  if (singleToken) {
    // The body keeps its dynamic types: casts from [batch, 1] feed it.
    builder.setInsertionPointToStart(&body);
    for (BlockArgument arg : body.getArguments()) {
      auto type = cast<RankedTensorType>(arg.getType());
      auto narrow = RankedTensorType::get({type.getDimSize(0), 1},
                                          type.getElementType());
      arg.setType(narrow);
      auto cast = tensor::CastOp::create(builder, arg.getLoc(), type, arg);
      arg.replaceAllUsesExcept(cast.getResult(), cast.getOperation());
    }
  }

  SmallVector<LMHeadOp> heads(entry.getOps<LMHeadOp>());
  if (heads.size() != 1)
    return entry.emitOpError() << "expected exactly one lathe.lm_head, found "
                               << heads.size();
  if (failed(keepLastPosition(heads.front())))
    return failure();

  int64_t layer = 0;
  entry.walk([&](MLAOp mla) {
    mla.setKvCacheLayerAttr(builder.getI64IntegerAttr(layer++));
  });

  auto ret = cast<func::ReturnOp>(body.getTerminator());
  entry.setType(builder.getFunctionType(body.getArgumentTypes(),
                                        ret.getOperandTypes()));
  return entry;
}

struct SpecializeEntriesPass
    : public lathe::impl::SpecializeEntriesBase<SpecializeEntriesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError() << "needs func.func @forward, the imported model";
      return signalPassFailure();
    }
    auto config = module->getAttrOfType<DictionaryAttr>("lathe.config");
    auto maxPositions =
        config ? config.getAs<IntegerAttr>("max_position_embeddings") : nullptr;
    if (!maxPositions) {
      module.emitError() << "needs lathe.config.max_position_embeddings";
      return signalPassFailure();
    }
    int64_t positions = maxPositions.getInt();
    int64_t seqLen = maxSeqLen ? static_cast<int64_t>(maxSeqLen)
                               : std::min(kDefaultMaxSeqLen, positions);
    if (maxBatch <= 0 || seqLen <= 0) {
      module.emitError() << "max-batch and max-seq-len must be positive, got "
                         << maxBatch << " and " << seqLen;
      return signalPassFailure();
    }
    if (seqLen > positions) {
      module.emitError() << "max-seq-len " << seqLen
                         << " exceeds the model's max_position_embeddings "
                         << positions;
      return signalPassFailure();
    }

    if (failed(specialize(forward, "prefill", /*singleToken=*/false)) ||
        failed(specialize(forward, "decode", /*singleToken=*/true)))
      return signalPassFailure();
    forward.erase();

    Builder builder(module.getContext());
    module->setAttr(kLimitsAttrName,
                    builder.getDictionaryAttr(
                        {builder.getNamedAttr("max_batch",
                                              builder.getI64IntegerAttr(maxBatch)),
                         builder.getNamedAttr("max_seq_len",
                                              builder.getI64IntegerAttr(seqLen))}));
  }
};

} // namespace

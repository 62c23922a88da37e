//===- Vectorize.cpp - tiles, vectorizes and bufferizes CPU kernels -------===//
//
// The row kernels are linalg on tensors over whole rows (RowKernels.cpp).
// Vectorizing a row at once would give vectors as long as the model's
// hidden size, which LLVM splits into hundreds of registers and spills; so
// each statically shaped op is first tiled along its innermost loop into
// `tile`-element pieces (a reduction there into `tile` partial sums carried
// by the loop, reduced once after it), and each piece is vectorized at that
// size, with masks on the last one when the row is not a multiple of it.
// The generators that emit vector code themselves (gemm, attention, rope,
// router) have no linalg and pass through unchanged.
//
// Bufferization runs after vectorization so that the tiles' slices become
// subviews of the bindings: row kernels read and write their buffers in
// place, and scratch tensors (partial sums) become stack allocations at the
// top of the kernel.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "dialects/lathe/IR/LatheKernelOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace lathe::cpu {
#define GEN_PASS_DEF_CPUVECTORIZE
#include "targets/cpu/Passes.h.inc"
} // namespace lathe::cpu

using namespace mlir;
using namespace lathe;

namespace {

/// A linalg op and the vector sizes to vectorize it at: an upper bound of
/// each of its loops (the tile size where tiling made the loop dynamic).
struct VectorizationItem {
  linalg::LinalgOp op;
  SmallVector<int64_t> vectorSizes;
};

/// Tiles `op` for vectors of `tile` elements along its innermost loop and
/// returns the pieces to vectorize. Ops that are small enough are returned
/// untiled; ops with dynamic loop ranges are left alone (they become loops
/// after bufferization).
FailureOr<SmallVector<VectorizationItem>>
tileForVectors(RewriterBase &rewriter, linalg::LinalgOp op, int64_t tile) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty() || llvm::any_of(ranges, ShapedType::isDynamic))
    return SmallVector<VectorizationItem>{};
  const unsigned inner = ranges.size() - 1;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();

  // Outer parallel loops go one by one: in a kernel they are a row or two.
  SmallVector<int64_t> tileSizes(ranges.size(), 0);
  for (unsigned i = 0; i < inner; ++i)
    if (iterators[i] == utils::IteratorType::parallel && ranges[i] > 1)
      tileSizes[i] = 1;
  if (ranges[inner] > tile)
    tileSizes[inner] = tile;
  if (llvm::all_of(tileSizes, [](int64_t size) { return size == 0; }))
    return SmallVector<VectorizationItem>{{op, ranges}};

  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tileSizes));
  const bool partial = iterators[inner] == utils::IteratorType::reduction &&
                       tileSizes[inner] != 0;
  if (partial) {
    // The loop over the row carries `tile` partial sums in a vector.
    options.setReductionTilingStrategy(
        ReductionTilingStrategy::PartialReductionOuterReduction);
    options.setReductionDims({inner});
  }
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return op->emitOpError() << "could not be tiled for vectorization";
  rewriter.replaceOp(op, tiled->replacements);

  SmallVector<VectorizationItem> items;
  for (Operation *piece : tiled->tiledOps) {
    auto linalgPiece = dyn_cast<linalg::LinalgOp>(piece);
    if (!linalgPiece)
      continue;
    SmallVector<int64_t> sizes = linalgPiece.getStaticLoopRanges();
    for (auto [i, size] : llvm::enumerate(sizes))
      if (i < tileSizes.size() && tileSizes[i] != 0)
        size = tileSizes[i];
    items.push_back({linalgPiece, sizes});
  }
  // The partial sums' initialization and final reduction are static.
  auto addStatic = [&](Operation *extra) {
    if (auto linalgExtra = dyn_cast_or_null<linalg::LinalgOp>(extra)) {
      SmallVector<int64_t> sizes = linalgExtra.getStaticLoopRanges();
      if (!llvm::any_of(sizes, ShapedType::isDynamic))
        items.push_back({linalgExtra, sizes});
    }
  };
  for (Operation *merge : tiled->mergeOps)
    addStatic(merge);
  for (Value init : tiled->initialValues)
    addStatic(init.getDefiningOp());
  return items;
}

/// Tiles and vectorizes every linalg op on tensors in `func`.
LogicalResult vectorizeKernel(func::FuncOp func, int64_t tile) {
  IRRewriter rewriter(func.getContext());
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) {
    if (op.hasPureTensorSemantics())
      ops.push_back(op);
  });
  SmallVector<VectorizationItem> items;
  for (linalg::LinalgOp op : ops) {
    FailureOr<SmallVector<VectorizationItem>> pieces =
        tileForVectors(rewriter, op, tile);
    if (failed(pieces))
      return failure();
    llvm::append_range(items, *pieces);
  }
  for (VectorizationItem &item : items) {
    Operation *op = item.op.getOperation();
    // What the vectorizer declines stays linalg and becomes loops.
    // Explicit (non-)scalable flags: left empty, MLIR 22's masked
    // vectorization now and then built masks whose type the masked op
    // rejected (a verifier error naming two identical-looking types).
    SmallVector<bool> scalable(item.vectorSizes.size(), false);
    if (failed(linalg::vectorizeOpPrecondition(op, item.vectorSizes,
                                               scalable)))
      continue;
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::VectorizationResult> result =
        linalg::vectorize(rewriter, op, item.vectorSizes, scalable);
    if (failed(result))
      continue;
    if (op->getNumResults() == 0)
      rewriter.eraseOp(op);
    else
      rewriter.replaceOp(op, result->replacements);
  }

  // Reads and writes of the tiles' slices go straight to the whole tensors,
  // so that bufferization sees no copies; masks move into the transfers
  // (vector.mask regions do not bufferize reliably).
  RewritePatternSet patterns(func.getContext());
  tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
  vector::populateVectorMaskLoweringPatternsForSideEffectingOps(patterns);
  vector::TransferReadOp::getCanonicalizationPatterns(patterns,
                                                      func.getContext());
  vector::TransferWriteOp::getCanonicalizationPatterns(patterns,
                                                       func.getContext());
  tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns,
                                                      func.getContext());
  tensor::InsertSliceOp::getCanonicalizationPatterns(patterns,
                                                     func.getContext());
  scf::ForOp::getCanonicalizationPatterns(patterns, func.getContext());
  affine::AffineMinOp::getCanonicalizationPatterns(patterns, func.getContext());
  return applyPatternsGreedily(func, std::move(patterns));
}

/// Scratch buffers live on the stack, allocated once at the top of the
/// kernel (an alloca inside a loop would grow the stack every iteration).
FailureOr<Value> allocateOnStack(OpBuilder &b, Location loc, MemRefType type,
                                 ValueRange dynamicSizes, unsigned alignment) {
  if (!dynamicSizes.empty())
    return failure();
  OpBuilder::InsertionGuard guard(b);
  Operation *scope = b.getInsertionBlock()->getParentOp();
  auto func = isa<func::FuncOp>(scope) ? cast<func::FuncOp>(scope)
                                       : scope->getParentOfType<func::FuncOp>();
  if (func)
    b.setInsertionPointToStart(&func.getBody().front());
  return memref::AllocaOp::create(b, loc, type,
                                  b.getI64IntegerAttr(std::max(alignment, 64u)))
      .getResult();
}

LogicalResult bufferizeKernel(func::FuncOp func) {
  bufferization::OneShotBufferizationOptions options;
  options.allocationFn = allocateOnStack;
  bufferization::BufferizationState state;
  if (failed(bufferization::runOneShotBufferize(func, options, state)))
    return failure();
  // A tile written in place and then "inserted" into its own row leaves a
  // copy of a view onto an identical view; once the views are CSE'd, the
  // copy folds away.
  IRRewriter rewriter(func.getContext());
  DominanceInfo dominance;
  eliminateCommonSubExpressions(rewriter, dominance, func);
  RewritePatternSet patterns(func.getContext());
  memref::CopyOp::getCanonicalizationPatterns(patterns, func.getContext());
  memref::SubViewOp::getCanonicalizationPatterns(patterns, func.getContext());
  scf::ForOp::getCanonicalizationPatterns(patterns, func.getContext());
  return applyPatternsGreedily(func, std::move(patterns));
}

/// What vectorization left becomes scalar loops, and so do the copies
/// bufferization could not avoid (memref.copy of a strided view would be a
/// call into MLIR's runtime library).
void lowerLeftoversToLoops(func::FuncOp func) {
  IRRewriter rewriter(func.getContext());
  SmallVector<memref::CopyOp> copies;
  func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                copy.getTarget());
  }
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  for (linalg::LinalgOp op : ops) {
    rewriter.setInsertionPoint(op);
    if (succeeded(linalg::linalgOpToLoops(rewriter, op)))
      rewriter.eraseOp(op);
  }
}

struct CpuVectorizePass final
    : lathe::cpu::impl::CpuVectorizeBase<CpuVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (tile <= 0) {
      module.emitError() << "lathe-cpu-vectorize: tile must be positive, got "
                         << tile;
      return signalPassFailure();
    }
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!getKernelAttr(func))
        continue;
      if (failed(vectorizeKernel(func, tile))) {
        func.emitError() << "kernel @" << func.getSymName()
                         << ": vectorization failed";
        return signalPassFailure();
      }
      if (failed(bufferizeKernel(func))) {
        func.emitError() << "kernel @" << func.getSymName()
                         << ": bufferization failed";
        return signalPassFailure();
      }
      lowerLeftoversToLoops(func);
    }
  }
};

} // namespace

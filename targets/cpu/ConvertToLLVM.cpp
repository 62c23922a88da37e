//===- ConvertToLLVM.cpp - bufferized CPU kernels to the LLVM dialect -----===//
//
// Three steps. First, vector code is brought to what the x86 backend takes
// well: masks folded into masked transfers, unit dims dropped, n-D ops
// unrolled to 1-D, transfers turned into (masked) loads and stores,
// multi-reductions into horizontal reductions, subviews folded into the
// indices of the accesses, `math.exp` into a polynomial (exact to ~2^-22;
// it needs no libm, so the shared object has no undefined math symbol),
// fma into a contractable multiply-add (no fmaf where the CPU lacks FMA).
// Second, affine and scf become arith and cf. Third, one conversion takes
// everything to the LLVM dialect, the kernel ABI included
// (KernelABIToLLVM.cpp); reductions may reassociate, which turns LLVM's
// sequential fadd chains into a tree.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "targets/cpu/KernelABIToLLVM.h"

#include "dialects/lathe/IR/LatheKernelOps.h"
#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace lathe::cpu {
#define GEN_PASS_DEF_CPUCONVERTTOLLVM
#include "targets/cpu/Passes.h.inc"
} // namespace lathe::cpu

using namespace mlir;
using namespace lathe;

namespace {

/// `math.fma` (from the exp polynomial) to a contractable multiply and add:
/// one FMA instruction where the CPU has them, a multiply and an add where
/// it does not, rather than llvm.fma's call to fmaf (which the shared object
/// cannot link). vector.fma needs nothing: it becomes llvm.fmuladd.
struct FmaToContractableMulAdd : OpRewritePattern<math::FmaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FmaOp op,
                                PatternRewriter &rewriter) const override {
    auto contract = arith::FastMathFlags::contract;
    Value product = arith::MulFOp::create(rewriter, op.getLoc(), op.getA(),
                                          op.getB(), contract);
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, product, op.getC(),
                                               contract);
    return success();
  }
};

/// Vector ops to 1-D loads, stores, arithmetic and reductions; exp to a
/// polynomial.
LogicalResult lowerVectorsAndMath(ModuleOp module) {
  MLIRContext *context = module.getContext();
  RewritePatternSet patterns(context);
  vector::populateVectorMaskLoweringPatternsForSideEffectingOps(patterns);
  vector::populateVectorMaskOpLoweringPatterns(patterns);
  vector::populateVectorMultiReductionLoweringPatterns(
      patterns, vector::VectorMultiReductionLowering::InnerReduction);
  vector::populateVectorContractLoweringPatterns(
      patterns, vector::VectorContractLowering::OuterProduct);
  vector::populateVectorOuterProductLoweringPatterns(patterns);
  vector::populateVectorTransferDropUnitDimsPatterns(patterns);
  vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
  vector::populateDropUnitDimWithShapeCastPatterns(patterns);
  vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
  vector::populateVectorToVectorCanonicalizationPatterns(patterns);
  vector::populateVectorBitCastLoweringPatterns(patterns);
  vector::populateVectorBroadcastLoweringPatterns(patterns);
  vector::populateVectorShapeCastLoweringPatterns(patterns);
  vector::populateVectorTransposeLoweringPatterns(
      patterns, vector::VectorTransposeLowering::EltWise);
  vector::populateVectorInterleaveLoweringPatterns(patterns);
  vector::populateVectorInsertExtractStridedSliceTransforms(patterns);
  vector::populateVectorStepLoweringPatterns(patterns);
  vector::populateVectorRankReducingFMAPattern(patterns);
  vector::populateVectorGatherLoweringPatterns(patterns);
  vector::populateVectorTransferLoweringPatterns(patterns,
                                                 /*maxTransferRank=*/1);
  vector::populateVectorMaskMaterializationPatterns(
      patterns, /*force32BitVectorIndices=*/true);
  // n-D transfers the patterns above leave are unrolled to 1-D ones.
  populateVectorToSCFConversionPatterns(
      patterns, VectorTransferToSCFOptions().enableFullUnroll());
  memref::populateFoldMemRefAliasOpPatterns(patterns);
  populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
    return name == math::ExpOp::getOperationName();
  });
  arith::populateArithExpandOpsPatterns(patterns);
  patterns.add<FmaToContractableMulAdd>(context);
  return applyPatternsGreedily(module, std::move(patterns));
}

/// Subviews to explicit offset arithmetic, affine to arith, scf to cf.
LogicalResult lowerStructure(ModuleOp module) {
  MLIRContext *context = module.getContext();
  {
    RewritePatternSet patterns(context);
    memref::populateExpandStridedMetadataPatterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return failure();
  }
  RewritePatternSet patterns(context);
  populateAffineToStdConversionPatterns(patterns);
  populateSCFToControlFlowConversionPatterns(patterns);
  ConversionTarget target(*context);
  target.addIllegalDialect<affine::AffineDialect, scf::SCFDialect>();
  target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
  return applyPartialConversion(module, target, std::move(patterns));
}

/// A masked load of 16-bit floats, as a masked load of i16 and a bitcast.
/// Without AVX512-BW, LLVM legalizes masked bf16/f16 vectors through f32
/// and calls __truncsfbf2 / __truncsfhf2 (compiler-rt), which a process
/// need not have; integer masks load the same bits with vpmaskmov.
struct MaskedHalfLoadAsInteger final
    : OpRewritePattern<LLVM::MaskedLoadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LLVM::MaskedLoadOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<VectorType>(op.getType());
    if (!type || !isa<BFloat16Type, Float16Type>(type.getElementType()))
      return failure();
    VectorType bits = type.clone(rewriter.getI16Type());
    SmallVector<Value> operands = {op.getData(), op.getMask()};
    if (Value passThru = op.getPassThru())
      operands.push_back(
          LLVM::BitcastOp::create(rewriter, op.getLoc(), bits, passThru));
    auto load = LLVM::MaskedLoadOp::create(rewriter, op.getLoc(), bits,
                                           operands, op->getAttrs());
    rewriter.replaceOpWithNewOp<LLVM::BitcastOp>(op, type, load.getResult());
    return success();
  }
};

/// The same for masked stores.
struct MaskedHalfStoreAsInteger final
    : OpRewritePattern<LLVM::MaskedStoreOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LLVM::MaskedStoreOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<VectorType>(op.getValue().getType());
    if (!type || !isa<BFloat16Type, Float16Type>(type.getElementType()))
      return failure();
    Value bits = LLVM::BitcastOp::create(
        rewriter, op.getLoc(), type.clone(rewriter.getI16Type()),
        op.getValue());
    rewriter.modifyOpInPlace(op, [&] { op.getValueMutable().assign(bits); });
    return success();
  }
};

/// Everything to the LLVM dialect, the kernel ABI included.
LogicalResult convertToLLVM(ModuleOp module) {
  MLIRContext *context = module.getContext();
  LowerToLLVMOptions options(context);
  options.overrideIndexBitwidth(64);
  LLVMTypeConverter converter(context, options);
  RewritePatternSet patterns(context);
  cpu::populateKernelABIToLLVMPatterns(converter, patterns);
  populateFuncToLLVMConversionPatterns(converter, patterns);
  arith::populateArithToLLVMConversionPatterns(converter, patterns);
  populateMathToLLVMConversionPatterns(converter, patterns);
  populateFinalizeMemRefToLLVMConversionPatterns(converter, patterns);
  cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
  index::populateIndexToLLVMConversionPatterns(converter, patterns);
  ub::populateUBToLLVMConversionPatterns(converter, patterns);
  vector::populateVectorTransferLoweringPatterns(patterns);
  populateVectorToLLVMConversionPatterns(converter, patterns,
                                         /*reassociateFPReductions=*/true,
                                         /*force32BitVectorIndices=*/true);
  LLVMConversionTarget target(*context);
  target.addLegalOp<ModuleOp>();
  if (failed(applyPartialConversion(module, target, std::move(patterns)))) {
    // Name the kernels that kept an op the conversion could not lower.
    for (auto func : module.getOps<func::FuncOp>()) {
      func.walk([&](Operation *op) {
        if (target.isLegal(op))
          return WalkResult::advance();
        func.emitError() << "kernel @" << func.getSymName()
                         << " cannot be lowered to LLVM: '" << op->getName()
                         << "' remains";
        return WalkResult::interrupt();
      });
    }
    return failure();
  }
  SmallVector<UnrealizedConversionCastOp> casts;
  module.walk([&](UnrealizedConversionCastOp cast) { casts.push_back(cast); });
  SmallVector<UnrealizedConversionCastOp> remaining;
  reconcileUnrealizedCasts(casts, &remaining);
  if (!remaining.empty())
    return remaining.front().emitError()
           << "a type conversion was left unresolved";
  RewritePatternSet halfPatterns(context);
  halfPatterns.add<MaskedHalfLoadAsInteger, MaskedHalfStoreAsInteger>(
      context);
  return applyPatternsGreedily(module, std::move(halfPatterns));
}

struct CpuConvertToLLVMPass final
    : lathe::cpu::impl::CpuConvertToLLVMBase<CpuConvertToLLVMPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(lowerVectorsAndMath(module)) || failed(lowerStructure(module)))
      return signalPassFailure();
    cpu::addAbiVersionSymbol(module);
    if (failed(convertToLLVM(module)))
      return signalPassFailure();
  }
};

} // namespace

//===- KernelABIToLLVM.cpp - the CPU kernel ABI in the LLVM dialect -------===//
//
// A kernel reads its launch through lathe's interface ops; on the CPU the
// launch is `void name(const LatheDispatch *d, int64_t x, int64_t y,
// int64_t z)` (runtime/cpu/KernelABI.h). These patterns run in the same
// conversion as upstream's to-LLVM patterns: the kernel function becomes an
// llvm.func with that signature first (the conversion visits a function
// before its body), and each interface op then reads the new function's
// arguments.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/KernelABIToLLVM.h"

#include "dialects/lathe/IR/LatheKernelOps.h"
#include "dialects/lathe/IR/LatheOps.h"
#include "runtime/cpu/KernelABI.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <cstddef>

using namespace mlir;
using namespace lathe;

// The struct layout the loads below assume.
static_assert(sizeof(void *) == 8 && offsetof(LatheDispatch, buffers) == 0 &&
                  offsetof(LatheDispatch, scalars) == 8 &&
                  offsetof(LatheDispatch, grid) == 16,
              "LatheDispatch is {ptr, ptr, i64[3]}");

namespace {

/// Arguments of a lowered kernel, in ABI order.
enum KernelArgument : unsigned { kDispatch = 0, kWorkgroupX = 1 };
constexpr unsigned kNumKernelArguments = 4;

LLVM::LLVMPointerType pointerType(MLIRContext *context) {
  return LLVM::LLVMPointerType::get(context);
}

/// LatheDispatch as LLVM lays it out.
LLVM::LLVMStructType dispatchType(MLIRContext *context) {
  Type i64 = IntegerType::get(context, 64);
  return LLVM::LLVMStructType::getLiteral(
      context, {pointerType(context), pointerType(context),
                LLVM::LLVMArrayType::get(i64, 3)});
}

/// Argument `index` of the lowered kernel around `op`; null when `op` is
/// not (yet) inside one.
Value kernelArgument(Operation *op, unsigned index) {
  auto func = op->getParentOfType<LLVM::LLVMFuncOp>();
  if (!func || func.getNumArguments() != kNumKernelArguments ||
      func.getBody().empty())
    return {};
  return func.getArgument(index);
}

/// A field of *dispatch: `path` indexes into LatheDispatch.
Value loadDispatchField(OpBuilder &b, Location loc, Value dispatch,
                        ArrayRef<LLVM::GEPArg> path, Type type) {
  MLIRContext *context = b.getContext();
  SmallVector<LLVM::GEPArg> indices = {0};
  indices.append(path.begin(), path.end());
  Value address =
      LLVM::GEPOp::create(b, loc, pointerType(context), dispatchType(context),
                          dispatch, indices, LLVM::GEPNoWrapFlags::inbounds);
  return LLVM::LoadOp::create(b, loc, type, address, /*alignment=*/8);
}

/// Element `index` of an array of `type` at `base`.
Value loadElement(OpBuilder &b, Location loc, Value base, Value index,
                  Type type) {
  Value address =
      LLVM::GEPOp::create(b, loc, pointerType(b.getContext()), type, base,
                          ValueRange{index}, LLVM::GEPNoWrapFlags::inbounds);
  return LLVM::LoadOp::create(b, loc, type, address, /*alignment=*/8);
}

Value loadElement(OpBuilder &b, Location loc, Value base, int64_t index,
                  Type type) {
  Value address = LLVM::GEPOp::create(
      b, loc, pointerType(b.getContext()), type, base,
      ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)},
      LLVM::GEPNoWrapFlags::inbounds);
  return LLVM::LoadOp::create(b, loc, type, address, /*alignment=*/8);
}

/// The pointer array `dispatch->buffers`.
Value loadBuffers(OpBuilder &b, Location loc, Value dispatch) {
  return loadDispatchField(b, loc, dispatch, {0}, pointerType(b.getContext()));
}

/// A row-major memref descriptor of `type` over `base`, with the dynamic
/// sizes (already i64) in order.
Value rowMajorDescriptor(OpBuilder &b, Location loc,
                         const LLVMTypeConverter &converter, MemRefType type,
                         Value base, ValueRange dynamicSizes) {
  Type indexType = converter.getIndexType();
  auto constant = [&](int64_t value) -> Value {
    return LLVM::ConstantOp::create(b, loc, indexType,
                                    b.getIntegerAttr(indexType, value));
  };
  auto descriptor =
      MemRefDescriptor::poison(b, loc, converter.convertType(type));
  descriptor.setAllocatedPtr(b, loc, base);
  descriptor.setAlignedPtr(b, loc, base);
  descriptor.setOffset(b, loc, constant(0));
  SmallVector<Value> sizes;
  unsigned nextDynamic = 0;
  for (int64_t size : type.getShape())
    sizes.push_back(ShapedType::isDynamic(size) ? dynamicSizes[nextDynamic++]
                                                : constant(size));
  Value stride = constant(1);
  for (int64_t i = type.getRank() - 1; i >= 0; --i) {
    descriptor.setSize(b, loc, i, sizes[i]);
    descriptor.setStride(b, loc, i, stride);
    if (i > 0)
      stride = LLVM::MulOp::create(b, loc, stride, sizes[i]);
  }
  return descriptor;
}

/// func.func @name() {lathe.kernel} -> llvm.func @name(ptr, i64, i64, i64).
struct KernelFuncLowering final : ConvertOpToLLVMPattern<func::FuncOp> {
  KernelFuncLowering(const LLVMTypeConverter &converter)
      : ConvertOpToLLVMPattern(converter, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(func::FuncOp func, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!getKernelAttr(func))
      return rewriter.notifyMatchFailure(func, "not a kernel");
    if (func.getNumArguments() != 0 || func.getNumResults() != 0 ||
        func.isExternal())
      return rewriter.notifyMatchFailure(
          func, "a kernel takes nothing and returns nothing");
    MLIRContext *context = func.getContext();
    Type i64 = IntegerType::get(context, 64);
    SmallVector<Type> arguments = {pointerType(context), i64, i64, i64};
    auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                            arguments);
    auto lowered = LLVM::LLVMFuncOp::create(rewriter, func.getLoc(),
                                            func.getSymName(), type);
    // Kernels never throw; the attribute lets LLVM drop unwind tables.
    lowered.setPassthroughAttr(
        rewriter.getArrayAttr({rewriter.getStringAttr("nounwind")}));
    rewriter.inlineRegionBefore(func.getBody(), lowered.getBody(),
                                lowered.end());
    TypeConverter::SignatureConversion signature(/*numOrigInputs=*/0);
    signature.addInputs(arguments);
    rewriter.applySignatureConversion(&lowered.getBody().front(), signature,
                                      getTypeConverter());
    rewriter.eraseOp(func);
    return success();
  }
};

struct BindingLowering final : ConvertOpToLLVMPattern<BindingOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(BindingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value dispatch = kernelArgument(op, kDispatch);
    if (!dispatch)
      return rewriter.notifyMatchFailure(op, "kernel not lowered yet");
    Location loc = op.getLoc();
    Value buffers = loadBuffers(rewriter, loc, dispatch);
    Value base = loadElement(rewriter, loc, buffers, op.getIndex(),
                             pointerType(getContext()));
    rewriter.replaceOp(op, rowMajorDescriptor(rewriter, loc,
                                              *getTypeConverter(), op.getType(),
                                              base, adaptor.getDynamicSizes()));
    return success();
  }
};

struct BindingTableLowering final : ConvertOpToLLVMPattern<BindingTableOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(BindingTableOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value dispatch = kernelArgument(op, kDispatch);
    if (!dispatch)
      return rewriter.notifyMatchFailure(op, "kernel not lowered yet");
    Location loc = op.getLoc();
    Type ptr = pointerType(getContext());
    Value buffers = loadBuffers(rewriter, loc, dispatch);
    Value table = loadElement(rewriter, loc, buffers, op.getIndex(), ptr);
    Value base = loadElement(rewriter, loc, table, adaptor.getEntry(), ptr);
    rewriter.replaceOp(op, rowMajorDescriptor(rewriter, loc,
                                              *getTypeConverter(), op.getType(),
                                              base, adaptor.getDynamicSizes()));
    return success();
  }
};

struct ScalarLowering final : ConvertOpToLLVMPattern<ScalarOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(ScalarOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value dispatch = kernelArgument(op, kDispatch);
    if (!dispatch)
      return rewriter.notifyMatchFailure(op, "kernel not lowered yet");
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    Value scalars = loadDispatchField(rewriter, loc, dispatch, {1},
                                      pointerType(getContext()));
    rewriter.replaceOp(op,
                       loadElement(rewriter, loc, scalars, op.getIndex(), i64));
    return success();
  }
};

struct WorkgroupIdLowering final : ConvertOpToLLVMPattern<WorkgroupIdOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(WorkgroupIdOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value id = kernelArgument(op, kWorkgroupX + op.getDimension());
    if (!id)
      return rewriter.notifyMatchFailure(op, "kernel not lowered yet");
    rewriter.replaceOp(op, id);
    return success();
  }
};

struct WorkgroupCountLowering final : ConvertOpToLLVMPattern<WorkgroupCountOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(WorkgroupCountOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value dispatch = kernelArgument(op, kDispatch);
    if (!dispatch)
      return rewriter.notifyMatchFailure(op, "kernel not lowered yet");
    rewriter.replaceOp(
        op, loadDispatchField(rewriter, op.getLoc(), dispatch,
                              {2, static_cast<int32_t>(op.getDimension())},
                              rewriter.getI64Type()));
    return success();
  }
};

} // namespace

void lathe::cpu::populateKernelABIToLLVMPatterns(
    const LLVMTypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<KernelFuncLowering, BindingLowering, BindingTableLowering,
               ScalarLowering, WorkgroupIdLowering, WorkgroupCountLowering>(
      converter);
}

void lathe::cpu::addAbiVersionSymbol(ModuleOp module) {
  if (module.lookupSymbol(kAbiVersionSymbol))
    return;
  auto b = OpBuilder::atBlockEnd(module.getBody());
  LLVM::GlobalOp::create(b, module.getLoc(), b.getI32Type(),
                         /*isConstant=*/true, LLVM::Linkage::External,
                         kAbiVersionSymbol,
                         b.getI32IntegerAttr(LATHE_CPU_ABI_VERSION),
                         /*alignment=*/4);
}

//===- Pipeline.cpp - a cpu target module to the LLVM dialect -------------===//
//
// lathe-cpu-lower-to-llvm: the checks a cpu target module must pass, then
// vectorize + bufferize, cleanups, convert to LLVM. compileCpuModule runs
// exactly this before translating to LLVM IR.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "dialects/lathe/IR/LatheKernelOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

namespace lathe::cpu {
#define GEN_PASS_DEF_CPULOWERTOLLVM
#include "targets/cpu/Passes.h.inc"
} // namespace lathe::cpu

using namespace mlir;
using namespace lathe;

LogicalResult lathe::cpu::verifyCpuTargetModule(ModuleOp module) {
  auto target = module->getAttrOfType<StringAttr>(kTargetAttrName);
  if (!target || target.getValue() != "cpu") {
    InFlightDiagnostic diag = module.emitError()
                              << "expected a cpu target module ("
                              << kTargetAttrName << " = \"cpu\")";
    if (target)
      diag << ", got " << target;
    return diag;
  }
  bool ok = true;
  for (Operation &op : module.getOps()) {
    auto func = dyn_cast<func::FuncOp>(op);
    if (!func) {
      op.emitError() << "a cpu target module holds only kernel functions, "
                        "got '"
                     << op.getName() << "'";
      ok = false;
      continue;
    }
    if (!getKernelAttr(func)) {
      func.emitError() << "function @" << func.getSymName()
                       << " in a cpu target module is not a kernel (no "
                       << kKernelAttrName << ")";
      ok = false;
    } else if (func.isExternal()) {
      func.emitError() << "kernel @" << func.getSymName() << " has no body";
      ok = false;
    } else if (func.getNumArguments() != 0 || func.getNumResults() != 0) {
      func.emitError() << "kernel @" << func.getSymName()
                       << " must take no arguments and return nothing: it "
                          "reads its launch through lathe.binding, "
                          "lathe.scalar and lathe.workgroup_id";
      ok = false;
    }
  }
  return success(ok);
}

void lathe::cpu::buildCpuLoweringPipeline(OpPassManager &pm, int64_t tile) {
  pm.addPass(createCpuVectorize(CpuVectorizeOptions{tile}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
  pm.addPass(createCpuConvertToLLVM());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {

struct CpuLowerToLLVMPass final
    : lathe::cpu::impl::CpuLowerToLLVMBase<CpuLowerToLLVMPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    OpPassManager pm(ModuleOp::getOperationName());
    cpu::buildCpuLoweringPipeline(pm, tile);
    pm.getDependentDialects(registry);
  }

  void runOnOperation() override {
    if (failed(cpu::verifyCpuTargetModule(getOperation())))
      return signalPassFailure();
    OpPassManager pm(ModuleOp::getOperationName());
    cpu::buildCpuLoweringPipeline(pm, tile);
    if (failed(runPipeline(pm, getOperation())))
      return signalPassFailure();
  }
};

} // namespace

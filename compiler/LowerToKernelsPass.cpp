//===- LowerToKernelsPass.cpp - lathe-lower-to-kernels and the pipelines --===//

#include "compiler/Passes.h"

#include "compiler/LowerToKernels.h"
#include "passes/Passes.h"
#include "targets/cpu/CpuTarget.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"

namespace lathe {
#define GEN_PASS_DEF_LOWERTOKERNELS
#include "compiler/Passes.h.inc"
} // namespace lathe

using namespace mlir;
using namespace lathe;

namespace {

struct LowerToKernelsPass
    : public lathe::impl::LowerToKernelsBase<LowerToKernelsPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    cpu::registerCpuTargetDialects(registry);
  }

  void runOnOperation() override {
    std::vector<std::unique_ptr<KernelTarget>> owned;
    SmallVector<const KernelTarget *> kernelTargets;
    for (const std::string &name :
         targets.empty() ? std::vector<std::string>{"cpu"}
                         : std::vector<std::string>(targets.begin(),
                                                    targets.end())) {
      if (name != "cpu") {
        getOperation().emitError()
            << "target '" << name
            << "': this version of lathe builds kernels for the cpu target "
               "only";
        return signalPassFailure();
      }
      cpu::CpuTargetOptions options;
      options.cpu = cpu;
      owned.push_back(cpu::createCpuTarget(options));
      kernelTargets.push_back(owned.back().get());
    }
    if (failed(lowerToKernels(getOperation(), kernelTargets)))
      signalPassFailure();
  }
};

} // namespace

ArrayRef<StringRef> lathe::optionalGraphPasses() {
  static const StringRef passes[] = {"lathe-fuse-moe-routing"};
  return passes;
}

void lathe::buildOptimizedPhase(OpPassManager &pm,
                                const OptimizedPhaseOptions &options) {
  auto skipped = [&](StringRef pass) {
    return llvm::is_contained(options.skip, pass);
  };
  if (!skipped("lathe-fuse-moe-routing"))
    pm.addPass(createFuseMoERouting());
  SpecializeEntriesOptions specialize;
  specialize.maxBatch = options.maxBatch;
  specialize.maxSeqLen = options.maxSeqLen;
  pm.addPass(createSpecializeEntries(specialize));
}

void lathe::buildKernelsPhase(OpPassManager &pm,
                              const KernelsPhaseOptions &options) {
  LowerToKernelsOptions lower;
  lower.targets.assign(options.targets.begin(), options.targets.end());
  lower.cpu = options.cpu;
  pm.addPass(createLowerToKernels(lower));
}

void lathe::registerPhasePipelines() {
  PassPipelineRegistration<OptimizedPhaseOptions>(
      "lathe-phase-optimized",
      "Phase input to phase optimized: the graph passes lathe-compile runs",
      buildOptimizedPhase);
  PassPipelineRegistration<KernelsPhaseOptions>(
      "lathe-phase-kernels",
      "Phase optimized to phase kernels: launches, buffers and kernels",
      buildKernelsPhase);
}

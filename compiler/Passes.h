//===- Passes.h - the compiler's phase lowering as passes -------*- C++ -*-===//

#ifndef LATHE_COMPILER_PASSES_H
#define LATHE_COMPILER_PASSES_H

#include "passes/Passes.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>

namespace lathe {

#define GEN_PASS_DECL
#include "compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Passes.h.inc"

/// The knobs of each phase step: lathe-compile's flags, and the options of
/// lathe-opt's phase pipelines.
struct OptimizedPhaseOptions
    : public mlir::PassPipelineOptions<OptimizedPhaseOptions> {
  Option<int64_t> maxBatch{*this, "max-batch",
                           llvm::cl::desc("Largest batch the entries accept"),
                           llvm::cl::init(8)};
  Option<int64_t> maxSeqLen{
      *this, "max-seq-len",
      llvm::cl::desc("Longest sequence per row; 0 for min(4096, "
                     "max_position_embeddings)"),
      llvm::cl::init(0)};
  ListOption<std::string> skip{
      *this, "skip",
      llvm::cl::desc("Optional graph passes not to run (see "
                     "optionalGraphPasses)")};
};
struct KernelsPhaseOptions
    : public mlir::PassPipelineOptions<KernelsPhaseOptions> {
  ListOption<std::string> targets{
      *this, "targets", llvm::cl::desc("Targets to build kernels for (cpu)")};
  Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("For the cpu target: an LLVM CPU name, or native"),
      llvm::cl::init("native")};
};

/// The graph passes of phase optimized that may be skipped (to compare a
/// model with and without them): lathe-fuse-moe-routing.
llvm::ArrayRef<llvm::StringRef> optionalGraphPasses();

/// The passes of each phase step, for lathe-compile and lathe-opt alike.
void buildOptimizedPhase(mlir::OpPassManager &pm,
                         const OptimizedPhaseOptions &options);
void buildKernelsPhase(mlir::OpPassManager &pm,
                       const KernelsPhaseOptions &options);

/// The named pipelines of lathe-opt, one per phase step:
/// `lathe-phase-optimized` (input to optimized, with the options of
/// lathe-specialize-entries) and `lathe-phase-kernels` (optimized to
/// kernels, with the options of lathe-lower-to-kernels).
void registerPhasePipelines();

} // namespace lathe

#endif // LATHE_COMPILER_PASSES_H

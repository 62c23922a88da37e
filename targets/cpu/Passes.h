//===- Passes.h - the CPU target's lowering passes ---------------*- C++ -*-===//
//
// The passes of Passes.td and the pipeline that compileCpuModule runs: a
// cpu target module in, the LLVM dialect out.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_PASSES_H
#define LATHE_TARGETS_CPU_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace lathe::cpu {

#define GEN_PASS_DECL
#include "targets/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/cpu/Passes.h.inc"

/// Adds the passes of `lathe-cpu-lower-to-llvm` after its checks:
/// vectorize and bufferize, clean up, convert to LLVM.
void buildCpuLoweringPipeline(mlir::OpPassManager &pm, int64_t tile = 64);

/// Checks what the pipeline needs of a cpu target module, emitting an
/// error at each function it cannot lower.
mlir::LogicalResult verifyCpuTargetModule(mlir::ModuleOp module);

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_PASSES_H

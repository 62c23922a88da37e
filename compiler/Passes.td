//===- Passes.td - the compiler's phase lowering as passes -*- tablegen -*-===//
//
// The step from phase optimized to phase kernels builds kernels with the
// targets, so it lives with the driver rather than in passes/ (which may
// depend on the dialect only). Declared as a pass so that lathe-opt runs it
// alone, and as part of the phase pipelines (compiler/PhasePipelines.h).
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_PASSES_TD
#define LATHE_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToKernels : Pass<"lathe-lower-to-kernels", "mlir::ModuleOp"> {
  let summary = "Lowers the @prefill/@decode entries to kernel launches and "
                "builds the kernels for each target";
  let description = [{
    Phase optimized to phase kernels (docs/architecture.md, "From the graph
    to kernels"): each graph op of an entry becomes the launches of the
    kernels that compute it, activations become views of the entry's
    arena, placed by lifetime, and every launched kernel is built once in a
    target module per target. Needs `lathe.limits` (from
    lathe-specialize-entries).
  }];
  let options = [
    ListOption<"targets", "targets", "std::string",
               "Targets to build kernels for (cpu)">,
    Option<"cpu", "cpu", "std::string", /*default=*/"\"native\"",
           "For the cpu target: an LLVM CPU name, or native">,
  ];
}

#endif // LATHE_COMPILER_PASSES_TD

//===- lathe-opt.cpp - mlir-opt with the lathe dialect and passes ---------===//
//
// Every upstream dialect, extension and pass, plus lathe's dialect, its graph
// passes (passes/Passes.td), the lowering to kernels and the phase pipelines
// (compiler/Passes.td) and the CPU target's lowering passes
// (targets/cpu/Passes.td).
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "dialects/lathe/IR/LatheDialect.h"
#include "passes/Passes.h"
#include "targets/cpu/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  lathe::registerLathePasses();
  lathe::registerLatheCompilerPasses();
  lathe::registerPhasePipelines();
  lathe::cpu::registerLatheCpuPasses();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<lathe::LatheDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "lathe optimizer: lathe and upstream MLIR passes\n",
      registry));
}

//===- ToolOptions.cpp - the tool's --mlir-* options on a pass manager ----===//

#include "passes/ToolOptions.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"

mlir::LogicalResult lathe::applyToolPassManagerOptions(mlir::PassManager &pm) {
  if (!llvm::cl::getRegisteredOptions().count("mlir-print-ir-after-all"))
    return mlir::success();
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return mlir::failure();
  mlir::applyDefaultTimingPassManagerCLOptions(pm);
  return mlir::success();
}

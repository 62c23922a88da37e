//===- ToolOptions.h - the tool's --mlir-* options on a pass manager ------===//
//
// lathe-compile and lathe-opt register MLIR's pass manager options
// (--mlir-print-ir-after-all, --mlir-timing, ...); a library caller, a test
// or a benchmark need not. Every pass manager lathe builds goes through this
// one function, so the options apply to all of them when registered and are
// skipped cleanly when not (applyPassManagerCLOptions fails without them).
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_PASSES_TOOLOPTIONS_H
#define LATHE_PASSES_TOOLOPTIONS_H

#include "mlir/Support/LogicalResult.h"

namespace mlir {
class PassManager;
} // namespace mlir

namespace lathe {

/// Applies the registered --mlir-* pass manager options (IR printing,
/// timing, crash reproducers) to `pm`; a no-op when no tool registered
/// them. Fails only when the options given conflict.
mlir::LogicalResult applyToolPassManagerOptions(mlir::PassManager &pm);

} // namespace lathe

#endif // LATHE_PASSES_TOOLOPTIONS_H

//===- Passes.h - lathe's graph passes --------------------------*- C++ -*-===//

#ifndef LATHE_PASSES_PASSES_H
#define LATHE_PASSES_PASSES_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace lathe {

/// The bounds that `lathe-specialize-entries` records on the module.
struct EntryLimits {
  int64_t maxBatch = 0;
  int64_t maxSeqLen = 0;
};
constexpr llvm::StringLiteral kLimitsAttrName = "lathe.limits";
/// The limits recorded on `module`, or an error naming what is missing.
mlir::FailureOr<EntryLimits> getEntryLimits(mlir::ModuleOp module);

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace lathe

#endif // LATHE_PASSES_PASSES_H

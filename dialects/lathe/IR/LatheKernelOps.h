//===- LatheKernelOps.h - helpers of the kernels phase -----------*- C++ -*-===//
//
// Names and lookups shared by everything that builds or reads kernels-phase
// IR (LatheKernelOps.td): which functions are kernels, which modules are
// targets.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_DIALECTS_LATHE_IR_LATHEKERNELOPS_H
#define LATHE_DIALECTS_LATHE_IR_LATHEKERNELOPS_H

#include "dialects/lathe/IR/LatheDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace lathe {

/// On a kernel function: its #lathe.kernel.
constexpr llvm::StringLiteral kKernelAttrName = "lathe.kernel";
/// On a target module: the target's name ("cpu", "sm_90a").
constexpr llvm::StringLiteral kTargetAttrName = "lathe.target";
/// On an entry function: the entry's name for the runtime ("prefill").
constexpr llvm::StringLiteral kEntryAttrName = "lathe.entry";

/// The kernel attribute of `func`, or null.
KernelAttr getKernelAttr(mlir::func::FuncOp func);
/// The kernel attribute of the function around `op`, or null.
KernelAttr getEnclosingKernel(mlir::Operation *op);
/// Whether `module` is a target module (has a lathe.target attribute).
bool isTargetModule(mlir::ModuleOp module);
/// The target modules directly inside `top`, in order.
llvm::SmallVector<mlir::ModuleOp> getTargetModules(mlir::ModuleOp top);

/// custom<TableEntryTypes> of lathe.weight_table: the operand types are the
/// table's entry type, so the syntax writes only the table type.
mlir::ParseResult parseTableEntryTypes(mlir::OpAsmParser &parser,
                                       llvm::SmallVectorImpl<mlir::Type> &types,
                                       mlir::Type tableType);
void printTableEntryTypes(mlir::OpAsmPrinter &printer, mlir::Operation *op,
                          mlir::TypeRange types, mlir::Type tableType);

} // namespace lathe

#endif // LATHE_DIALECTS_LATHE_IR_LATHEKERNELOPS_H

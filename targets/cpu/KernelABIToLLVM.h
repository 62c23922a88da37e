//===- KernelABIToLLVM.h - the CPU kernel ABI in the LLVM dialect -*- C++ -*-===//
//
// Conversion patterns that give CPU kernels the calling convention of
// runtime/cpu/KernelABI.h; used by lathe-cpu-convert-to-llvm.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_KERNELABITOLLVM_H
#define LATHE_TARGETS_CPU_KERNELABITOLLVM_H

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

namespace lathe::cpu {

/// The symbol the shared object exports with LATHE_CPU_ABI_VERSION.
constexpr llvm::StringLiteral kAbiVersionSymbol = "lathe_cpu_abi_version";

/// Kernel functions to `llvm.func @name(!llvm.ptr, i64, i64, i64)` and the
/// interface ops (lathe.binding, binding_table, scalar, workgroup_id,
/// workgroup_count) to reads of the dispatch and the arguments.
void populateKernelABIToLLVMPatterns(const mlir::LLVMTypeConverter &converter,
                                     mlir::RewritePatternSet &patterns);

/// Adds `llvm.mlir.global external constant @lathe_cpu_abi_version` to
/// `module` unless it has one.
void addAbiVersionSymbol(mlir::ModuleOp module);

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_KERNELABITOLLVM_H

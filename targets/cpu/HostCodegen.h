//===- HostCodegen.h - LLVM dialect to x86-64 object code --------*- C++ -*-===//
//
// The CPU a cpu target module is compiled for, and its translation to LLVM
// IR, O3 and object emission through LLVM's TargetMachine.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_HOSTCODEGEN_H
#define LATHE_TARGETS_CPU_HOSTCODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace lathe::cpu {

/// A CPU to generate code for.
struct CodegenCpu {
  /// The LLVM CPU name ("znver4").
  std::string name;
  /// The LLVM feature string the TargetMachine gets: the CPU's features
  /// that have a GCC name enabled, every other one beyond x86-64's baseline
  /// disabled, so that the code runs on any CPU with `features`.
  std::string llvmFeatures;
  /// What the code may use, as GCC's __builtin_cpu_supports names them.
  std::vector<std::string> features;
  bool hasAVX512 = false;
};

/// Resolves an LLVM x86-64 CPU name, or "native" for the host's CPU and
/// features as the host reports them.
llvm::Expected<CodegenCpu> resolveCpu(llvm::StringRef cpu);

/// Translates `module` (the LLVM dialect) to LLVM IR, runs LLVM's O3
/// pipeline for `cpu` and emits a position-independent ELF object.
llvm::Expected<llvm::SmallVector<char, 0>>
emitObject(mlir::ModuleOp module, const CodegenCpu &cpu);

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_HOSTCODEGEN_H

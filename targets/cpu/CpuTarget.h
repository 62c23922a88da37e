//===- CpuTarget.h - the CPU target: kernels and host code -------*- C++ -*-===//
//
// The CPU target builds each kernel of a spec with the generators of this
// folder (Generators.h), and compiles a target module of such kernels into
// one ELF shared object that the runtime dlopen's: every kernel exported
// with the CPU kernel ABI (runtime/cpu/KernelABI.h), plus
// `uint32_t lathe_cpu_abi_version`.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_CPUTARGET_H
#define LATHE_TARGETS_CPU_CPUTARGET_H

#include "targets/KernelSpecs.h"
#include "targets/cpu/CpuDescription.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe::cpu {

/// On a cpu target module: the CPU the code is tuned for ("skylake-avx512"),
/// and the features it may use, as GCC's __builtin_cpu_supports spells them
/// ("avx2", "avx512f", "fma").
constexpr llvm::StringLiteral kCpuAttrName = "lathe.cpu";
constexpr llvm::StringLiteral kCpuFeaturesAttrName = "lathe.cpu_features";

struct CpuTargetOptions {
  /// An LLVM CPU name, or "native" for the host's.
  std::string cpu = "native";
  /// What the generators shape kernels for (vector lanes, registers); by
  /// default the description of `cpu`. Tests set it to run another CPU's
  /// blocking on this one.
  std::optional<CpuDescription> description;
};

std::unique_ptr<KernelTarget> createCpuTarget(const CpuTargetOptions &options);

/// What compiling a cpu target module gives.
struct CpuObject {
  /// The ELF shared object.
  std::vector<char> sharedObject;
  /// The CPU and features it was built for (from the module's attributes).
  std::string cpu;
  std::vector<std::string> features;
};

/// Lowers every kernel of `module` (a target module with lathe.target =
/// "cpu") to LLVM, optimizes, and links the shared object. `module` is
/// rewritten in place: it holds the LLVM dialect afterwards, and lathe.cpu
/// and lathe.cpu_features name the resolved CPU ("native" becomes the
/// host's) and what the code may use. The error names the kernel that
/// failed to lower, or the step that failed. Registers what it needs
/// (registerCpuTargetDialects) in the module's context.
llvm::Expected<CpuObject> compileCpuModule(mlir::ModuleOp module);

/// The dialects the kernel generators build with and the pipeline lowers
/// through, with the interface models (bufferization, tiling, value bounds,
/// translation to LLVM IR) the pipeline needs.
void registerCpuTargetDialects(mlir::DialectRegistry &registry);

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_CPUTARGET_H

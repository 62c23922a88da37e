//===- LowerToKernels.h - phase `optimized` to phase `kernels` --*- C++ -*-===//
//
// The graph's entries (`@prefill`, `@decode` on tensors) become straight-line
// lists of kernel launches over buffers, and every kernel they launch is
// built once per target in a nested target module. docs/architecture.md
// ("Phase kernels") describes the IR this produces.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_LOWERTOKERNELS_H
#define LATHE_COMPILER_LOWERTOKERNELS_H

#include "targets/KernelSpecs.h"

#include "mlir/IR/BuiltinOps.h"

namespace lathe {

/// On an entry function of phase kernels (all set by lowerToKernels):
/// the entry's symbols, `[{name, input, dim, max}, ...]`: symbol i is dim
/// `dim` of argument `input`, at most `max`.
constexpr llvm::StringLiteral kSymbolsAttrName = "lathe.symbols";
/// How many leading arguments are inputs; the rest are outputs.
constexpr llvm::StringLiteral kNumInputsAttrName = "lathe.num_inputs";
/// Bytes of scratch the entry's arena needs at the symbols' maxima.
constexpr llvm::StringLiteral kArenaBytesAttrName = "lathe.arena_bytes";
/// Present when a call advances each row's cached positions.
constexpr llvm::StringLiteral kWritesKVCacheAttrName = "lathe.writes_kv_cache";
/// On each argument: its role ("tokens", "positions", "logits") and its
/// shape as an affine map over the entry's symbols.
constexpr llvm::StringLiteral kRoleAttrName = "lathe.role";
constexpr llvm::StringLiteral kShapeAttrName = "lathe.shape";

/// Rewrites every entry of `module` (a func.func with lathe.entry, after
/// lathe-specialize-entries) into launches over buffers, and builds the
/// kernels they launch in one target module per target. Buffers of
/// activations are planned into each entry's arena. Errors are emitted on
/// the op that has no lowering.
mlir::LogicalResult
lowerToKernels(mlir::ModuleOp module,
               llvm::ArrayRef<const KernelTarget *> targets);

} // namespace lathe

#endif // LATHE_COMPILER_LOWERTOKERNELS_H

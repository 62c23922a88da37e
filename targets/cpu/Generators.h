//===- Generators.h - the CPU kernel generator of each family ----*- C++ -*-===//
//
// One function per kernel family, each building kernel `name` for its spec
// at the builder's insertion point (inside the target module), for the CPU
// `cpu` describes. The families and their buffers are described in
// targets/KernelSpecs.h.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_GENERATORS_H
#define LATHE_TARGETS_CPU_GENERATORS_H

#include "targets/KernelSpecs.h"
#include "targets/cpu/CpuDescription.h"

namespace lathe::cpu {

class KernelBuilder;

#define LATHE_CPU_GENERATOR(Spec, function)                                    \
  mlir::FailureOr<mlir::func::FuncOp> function(                                \
      mlir::OpBuilder &builder, mlir::Location loc, llvm::StringRef name,      \
      const Spec &spec, const CpuDescription &cpu);

// Row kernels (RowKernels.cpp): linalg on tensors, one row per workgroup.
LATHE_CPU_GENERATOR(EmbeddingSpec, buildEmbedding)
LATHE_CPU_GENERATOR(RmsNormSpec, buildRmsNorm)
LATHE_CPU_GENERATOR(AddSpec, buildAdd)
LATHE_CPU_GENERATOR(GatherLastSpec, buildGatherLast)
LATHE_CPU_GENERATOR(MoECombineSpec, buildMoECombine)
// Gemm.cpp
LATHE_CPU_GENERATOR(GemmSpec, buildGemm)
// Rope.cpp: RoPE in place and MLA's cache write.
LATHE_CPU_GENERATOR(RopeSpec, buildRope)
LATHE_CPU_GENERATOR(KVAppendSpec, buildKVAppend)
// Attention.cpp
LATHE_CPU_GENERATOR(MLAAttentionSpec, buildMLAAttention)
// Router.cpp
LATHE_CPU_GENERATOR(MoETopkSpec, buildMoETopk)
LATHE_CPU_GENERATOR(MoERouterSpec, buildMoERouter)
LATHE_CPU_GENERATOR(MoEPermuteSpec, buildMoEPermute)

#undef LATHE_CPU_GENERATOR

/// `dst = rms_norm(src) * weight` of one row in linalg on tensors: `src`
/// and `dst` are [1, dim] f32 memref views, `weight` a [dim] memref. Shared
/// by the rms_norm and kv_cache families.
void emitRmsNormRow(KernelBuilder &kb, mlir::Value src, mlir::Value weight,
                    mlir::Value dst, double eps);

/// Rotates the `dims` f32 at `x[indices...]` (the last index moves) by row
/// `position` of the RoPE table [rows, 2, dims] and stores them at
/// `out[outIndices...]`. Shared by the rope and kv_cache families.
void emitRopeRotation(KernelBuilder &kb, mlir::Value x,
                      mlir::ValueRange indices, mlir::Value table,
                      mlir::Value position, int64_t dims, mlir::Value out,
                      mlir::ValueRange outIndices);

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_GENERATORS_H

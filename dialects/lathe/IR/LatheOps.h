//===- LatheOps.h - graph ops of DeepSeek-family models ---------*- C++ -*-===//

#ifndef LATHE_DIALECTS_LATHE_IR_LATHEOPS_H
#define LATHE_DIALECTS_LATHE_IR_LATHEOPS_H

#include "dialects/lathe/IR/LatheDialect.h"
#include "dialects/lathe/IR/LatheKernelOps.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace lathe {
/// The latent KV cache that `lathe.mla` ops of the prefill and decode entries
/// read and write.
struct KVCacheResource
    : public mlir::SideEffects::Resource::Base<KVCacheResource> {
  llvm::StringRef getName() final { return "lathe.kv_cache"; }
};

/// An FP8 type (e4m3 or e5m2), or a shaped type of FP8 elements: the
/// weights that carry block scales.
bool isFP8(mlir::Type type);
} // namespace lathe

#define GET_OP_CLASSES
#include "dialects/lathe/IR/LatheOps.h.inc"

#endif // LATHE_DIALECTS_LATHE_IR_LATHEOPS_H

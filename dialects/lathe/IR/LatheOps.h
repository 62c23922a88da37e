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
} // namespace lathe

#define GET_OP_CLASSES
#include "dialects/lathe/IR/LatheOps.h.inc"

#endif // LATHE_DIALECTS_LATHE_IR_LATHEOPS_H

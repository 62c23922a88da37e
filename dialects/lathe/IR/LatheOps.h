//===- LatheOps.h - graph ops of DeepSeek-family models ---------*- C++ -*-===//

#ifndef LATHE_DIALECTS_LATHE_IR_LATHEOPS_H
#define LATHE_DIALECTS_LATHE_IR_LATHEOPS_H

#include "dialects/lathe/IR/LatheDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/lathe/IR/LatheOps.h.inc"

#endif // LATHE_DIALECTS_LATHE_IR_LATHEOPS_H

//===- LatheDialect.h - the lathe dialect and its attributes ----*- C++ -*-===//

#ifndef LATHE_DIALECTS_LATHE_IR_LATHEDIALECT_H
#define LATHE_DIALECTS_LATHE_IR_LATHEDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

namespace lathe {
/// Parses a float literal as an f64. As for MLIR's builtin floats, a decimal
/// integer literal is rejected with a hint to add a trailing dot.
mlir::FailureOr<llvm::APFloat> parseDouble(mlir::AsmParser &parser);
/// Prints the shortest text that parses back to exactly `value`, always with
/// a '.' so that it lexes as a float (`10000.0`, `0.1`, `1.0E+20`).
void printDouble(mlir::AsmPrinter &printer, const llvm::APFloat &value);
} // namespace lathe

#include "dialects/lathe/IR/LatheDialect.h.inc"
#include "dialects/lathe/IR/LatheEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/lathe/IR/LatheAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/lathe/IR/LatheTypes.h.inc"

#endif // LATHE_DIALECTS_LATHE_IR_LATHEDIALECT_H

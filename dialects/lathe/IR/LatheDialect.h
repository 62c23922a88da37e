//===- LatheDialect.h - the lathe dialect and its attributes ----*- C++ -*-===//

#ifndef LATHE_DIALECTS_LATHE_IR_LATHEDIALECT_H
#define LATHE_DIALECTS_LATHE_IR_LATHEDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

namespace lathe {
/// Parses a float literal (an integer literal is accepted too) as an f64.
mlir::FailureOr<llvm::APFloat> parseDouble(mlir::AsmParser &parser);
/// Prints the shortest text that parses back to exactly `value`, always with
/// a '.' or an exponent so that it reads as a float.
void printDouble(mlir::AsmPrinter &printer, const llvm::APFloat &value);
} // namespace lathe

#include "dialects/lathe/IR/LatheDialect.h.inc"
#include "dialects/lathe/IR/LatheEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/lathe/IR/LatheAttrs.h.inc"

#endif // LATHE_DIALECTS_LATHE_IR_LATHEDIALECT_H

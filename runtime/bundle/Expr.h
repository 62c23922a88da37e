//===- Expr.h - the bundle's integer expressions ---------------*- C++ -*-===//
//
// Sizes, scalars and grids are Exprs: postfix programs over i64 whose
// symbols are the values of one context (a function's symbols, or a
// launch's scalars). checkExpr is the loader's structural check; a checked
// program can still fail to evaluate (division by zero, overflow), which
// evaluateExpr reports as an error instead of computing garbage.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_BUNDLE_EXPR_H
#define LATHE_RUNTIME_BUNDLE_EXPR_H

#include "runtime/schema/bundle_generated.h"
#include "runtime/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lathe::rt {

/// Checks that `expr` is present, has only known operations, never pops an
/// empty stack, ends with exactly one value, and names no symbol at or past
/// `numSymbols`. Messages name the offending op ("op 2: ...").
Status checkExpr(const lathe::bundle::Expr *expr, size_t numSymbols);

/// Evaluates `expr` over `symbols`. Errors on any program checkExpr would
/// reject, on division or modulo by a value <= 0, and on i64 overflow.
Expected<int64_t> evaluateExpr(const lathe::bundle::Expr &expr,
                               const int64_t *symbols, size_t numSymbols);

/// `expr` as infix text, symbols by name ("(tokens + 3) ceildiv 4"); names
/// past `symbolNames` print as "s<i>". Malformed programs print as
/// "<invalid expression>".
std::string formatExpr(const lathe::bundle::Expr *expr,
                       const std::vector<std::string> &symbolNames);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_BUNDLE_EXPR_H

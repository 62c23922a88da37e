//===- Expr.cpp - the bundle's integer expressions ------------------------===//

#include "runtime/bundle/Expr.h"

#include <limits>

using namespace lathe::rt;
using lathe::bundle::Expr;
using lathe::bundle::ExprOp;
using lathe::bundle::ExprOpKind;

namespace {

/// FlatBuffers' verifier checks a vector's length field (4 bytes) for
/// alignment, not its 8-byte elements; reading a misaligned ExprOp is
/// undefined behaviour.
bool aligned(const flatbuffers::Vector<const ExprOp *> &ops) {
  return reinterpret_cast<uintptr_t>(ops.Data()) % alignof(ExprOp) == 0;
}

/// Values an op pops; -1 for an op kind outside the enum.
int operandCount(ExprOpKind kind) {
  switch (kind) {
  case ExprOpKind::Const:
  case ExprOpKind::Symbol:
    return 0;
  case ExprOpKind::Add:
  case ExprOpKind::Mul:
  case ExprOpKind::FloorDiv:
  case ExprOpKind::CeilDiv:
  case ExprOpKind::Mod:
    return 2;
  }
  return -1;
}

const char *opName(ExprOpKind kind) {
  switch (kind) {
  case ExprOpKind::Const:
    return "Const";
  case ExprOpKind::Symbol:
    return "Symbol";
  case ExprOpKind::Add:
    return "Add";
  case ExprOpKind::Mul:
    return "Mul";
  case ExprOpKind::FloorDiv:
    return "FloorDiv";
  case ExprOpKind::CeilDiv:
    return "CeilDiv";
  case ExprOpKind::Mod:
    return "Mod";
  }
  return "?";
}

/// a op b for the binary ops, b > 0 for the divisions.
Expected<int64_t> apply(ExprOpKind kind, int64_t a, int64_t b) {
  int64_t result = 0;
  switch (kind) {
  case ExprOpKind::Add:
    if (__builtin_add_overflow(a, b, &result))
      return makeError(a, " + ", b, " overflows i64");
    return result;
  case ExprOpKind::Mul:
    if (__builtin_mul_overflow(a, b, &result))
      return makeError(a, " * ", b, " overflows i64");
    return result;
  case ExprOpKind::FloorDiv:
  case ExprOpKind::CeilDiv:
  case ExprOpKind::Mod: {
    if (b <= 0)
      return makeError(opName(kind), " of ", a, " by ", b,
                       ": the divisor must be positive");
    // With b > 0, neither / nor % can overflow; adjust C's truncation.
    int64_t quotient = a / b, remainder = a % b;
    if (kind == ExprOpKind::Mod)
      return remainder < 0 ? remainder + b : remainder;
    if (kind == ExprOpKind::FloorDiv)
      return remainder < 0 ? quotient - 1 : quotient;
    return remainder > 0 ? quotient + 1 : quotient;
  }
  case ExprOpKind::Const:
  case ExprOpKind::Symbol:
    break;
  }
  return makeError("op ", opName(kind), " is not binary");
}

} // namespace

Status lathe::rt::checkExpr(const Expr *expr, size_t numSymbols) {
  if (!expr || !expr->ops() || expr->ops()->size() == 0)
    return Status::error("the expression is empty");
  if (!aligned(*expr->ops()))
    return Status::error("the ops are not 8-byte aligned (a malformed "
                         "FlatBuffer)");
  size_t depth = 0;
  uint32_t index = 0;
  for (const ExprOp *op : *expr->ops()) {
    int operands = operandCount(op->kind());
    if (operands < 0)
      return makeError("op ", index, ": unknown kind ", unsigned(op->kind()));
    if (depth < size_t(operands))
      return makeError("op ", index, " (", opName(op->kind()), ") needs ",
                       operands, " values but the stack holds ", depth);
    if (op->kind() == ExprOpKind::Symbol &&
        (op->value() < 0 || uint64_t(op->value()) >= numSymbols))
      return makeError("op ", index, ": symbol ", op->value(),
                       " is out of range (", numSymbols, " symbols)");
    depth = depth - operands + 1;
    ++index;
  }
  if (depth != 1)
    return makeError("the expression leaves ", depth,
                     " values on the stack instead of 1");
  return Status::success();
}

Expected<int64_t> lathe::rt::evaluateExpr(const Expr &expr,
                                          const int64_t *symbols,
                                          size_t numSymbols) {
  // Shallow programs (all of them in practice) run on a fixed stack.
  constexpr size_t inlineDepth = 32;
  int64_t inlineStack[inlineDepth];
  std::vector<int64_t> heapStack;
  int64_t *stack = inlineStack;
  size_t capacity = inlineDepth, depth = 0;

  if (!expr.ops() || expr.ops()->size() == 0)
    return Status::error("the expression is empty");
  if (!aligned(*expr.ops()))
    return Status::error("the ops are not 8-byte aligned");
  uint32_t index = 0;
  for (const ExprOp *op : *expr.ops()) {
    ExprOpKind kind = op->kind();
    int operands = operandCount(kind);
    if (operands < 0)
      return makeError("op ", index, ": unknown kind ", unsigned(kind));
    if (depth < size_t(operands))
      return makeError("op ", index, " (", opName(kind),
                       ") pops an empty stack");
    int64_t value = 0;
    if (kind == ExprOpKind::Const) {
      value = op->value();
    } else if (kind == ExprOpKind::Symbol) {
      if (op->value() < 0 || uint64_t(op->value()) >= numSymbols)
        return makeError("op ", index, ": symbol ", op->value(),
                         " is out of range (", numSymbols, " symbols)");
      value = symbols[op->value()];
    } else {
      depth -= 2;
      Expected<int64_t> result = apply(kind, stack[depth], stack[depth + 1]);
      if (!result)
        return result.status();
      value = *result;
    }
    if (depth == capacity) {
      heapStack.assign(stack, stack + depth);
      heapStack.resize(capacity * 2);
      stack = heapStack.data();
      capacity *= 2;
    }
    stack[depth++] = value;
    ++index;
  }
  if (depth != 1)
    return makeError("the expression leaves ", depth,
                     " values on the stack instead of 1");
  return stack[0];
}

std::string lathe::rt::formatExpr(const Expr *expr,
                                  const std::vector<std::string> &symbolNames) {
  if (!expr || !expr->ops() || expr->ops()->size() == 0 ||
      !aligned(*expr->ops()))
    return "<invalid expression>";
  // Each stack entry keeps its text and the precedence of its outermost
  // operator: 3 for atoms, 2 for the multiplicative ops, 1 for Add.
  struct Entry {
    std::string text;
    int precedence;
    ExprOpKind kind;
  };
  std::vector<Entry> stack;
  for (const ExprOp *op : *expr->ops()) {
    ExprOpKind kind = op->kind();
    int operands = operandCount(kind);
    if (operands < 0 || stack.size() < size_t(operands))
      return "<invalid expression>";
    if (kind == ExprOpKind::Const) {
      stack.push_back({std::to_string(op->value()), 3, kind});
      continue;
    }
    if (kind == ExprOpKind::Symbol) {
      int64_t i = op->value();
      bool named = i >= 0 && uint64_t(i) < symbolNames.size() &&
                   !symbolNames[size_t(i)].empty();
      stack.push_back(
          {named ? symbolNames[size_t(i)] : "s" + std::to_string(i), 3, kind});
      continue;
    }
    Entry b = std::move(stack.back());
    stack.pop_back();
    Entry a = std::move(stack.back());
    stack.pop_back();
    int precedence = kind == ExprOpKind::Add ? 1 : 2;
    const char *spelling = kind == ExprOpKind::Add        ? " + "
                           : kind == ExprOpKind::Mul      ? " * "
                           : kind == ExprOpKind::FloorDiv ? " floordiv "
                           : kind == ExprOpKind::CeilDiv  ? " ceildiv "
                                                          : " mod ";
    // Left-associative: a right operand of equal precedence needs
    // parentheses unless both ops are the same associative one (Add, Mul).
    bool regroups =
        b.kind == kind && (kind == ExprOpKind::Add || kind == ExprOpKind::Mul);
    std::string left = a.precedence < precedence ? "(" + a.text + ")" : a.text;
    std::string right =
        b.precedence < precedence || (b.precedence == precedence && !regroups)
            ? "(" + b.text + ")"
            : b.text;
    stack.push_back({left + spelling + right, precedence, kind});
  }
  if (stack.size() != 1)
    return "<invalid expression>";
  return stack[0].text;
}

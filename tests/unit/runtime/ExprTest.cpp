//===- ExprTest.cpp - the bundle's integer expressions --------------------===//

#include "runtime/bundle/Expr.h"

#include "tests/unit/runtime/TestBundle.h"

#include <gtest/gtest.h>

#include <limits>

using namespace lathe::rt;
using namespace lathe::rt::testing;
using Kind = lathe::bundle::ExprOpKind;

namespace {

/// One Expr in its own FlatBuffer, as the loader would see it.
class ExprBuffer {
public:
  explicit ExprBuffer(const ExprSpec &spec) {
    std::vector<lathe::bundle::ExprOp> ops;
    for (const auto &[kind, value] : spec.ops)
      ops.emplace_back(kind, value);
    builder.Finish(lathe::bundle::CreateExprDirect(builder, &ops));
  }
  const lathe::bundle::Expr *get() const {
    return flatbuffers::GetRoot<lathe::bundle::Expr>(
        builder.GetBufferPointer());
  }

private:
  flatbuffers::FlatBufferBuilder builder;
};

Expected<int64_t> eval(const ExprSpec &spec,
                       const std::vector<int64_t> &symbols = {}) {
  ExprBuffer buffer(spec);
  return evaluateExpr(*buffer.get(), symbols.data(), symbols.size());
}

int64_t value(const ExprSpec &spec, const std::vector<int64_t> &symbols = {}) {
  Expected<int64_t> result = eval(spec, symbols);
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? *result : -999;
}

std::string evalError(const ExprSpec &spec,
                      const std::vector<int64_t> &symbols = {}) {
  Expected<int64_t> result = eval(spec, symbols);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : result.status().message();
}

std::string checkError(const ExprSpec &spec, size_t numSymbols) {
  ExprBuffer buffer(spec);
  Status status = checkExpr(buffer.get(), numSymbols);
  EXPECT_FALSE(status.ok());
  return status.message();
}

ExprSpec op(ExprSpec a, ExprSpec b, Kind kind) {
  return binary(std::move(a), std::move(b), kind);
}

TEST(Expr, EvaluatesEachOp) {
  EXPECT_EQ(value(constant(7)), 7);
  EXPECT_EQ(value(symbol(1), {5, 9}), 9);
  EXPECT_EQ(value(symbol(0) + constant(3), {4}), 7);
  EXPECT_EQ(value(symbol(0) * symbol(1), {6, 7}), 42);
  // (s0 * s1) ceildiv 4, the example of bundle.fbs.
  EXPECT_EQ(value(ceilDiv(symbol(0) * symbol(1), constant(4)), {3, 5}), 4);
}

TEST(Expr, DivisionRoundsTowardsMinusInfinityAndModIsNonNegative) {
  EXPECT_EQ(value(op(constant(7), constant(2), Kind::FloorDiv)), 3);
  EXPECT_EQ(value(op(constant(-7), constant(2), Kind::FloorDiv)), -4);
  EXPECT_EQ(value(op(constant(-8), constant(2), Kind::FloorDiv)), -4);
  EXPECT_EQ(value(op(constant(7), constant(2), Kind::CeilDiv)), 4);
  EXPECT_EQ(value(op(constant(-7), constant(2), Kind::CeilDiv)), -3);
  EXPECT_EQ(value(op(constant(8), constant(2), Kind::CeilDiv)), 4);
  EXPECT_EQ(value(op(constant(7), constant(3), Kind::Mod)), 1);
  EXPECT_EQ(value(op(constant(-7), constant(3), Kind::Mod)), 2);
  EXPECT_EQ(value(op(constant(-9), constant(3), Kind::Mod)), 0);
  const int64_t min = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(value(op(constant(min), constant(1), Kind::FloorDiv)), min);
  EXPECT_EQ(value(op(constant(min), constant(2), Kind::Mod)), 0);
}

TEST(Expr, DivisionByZeroOrNegativeIsAnError) {
  for (Kind kind : {Kind::FloorDiv, Kind::CeilDiv, Kind::Mod}) {
    EXPECT_NE(evalError(op(constant(4), constant(0), kind))
                  .find("the divisor must be positive"),
              std::string::npos);
    EXPECT_NE(evalError(op(constant(4), symbol(0), kind), {-2})
                  .find("by -2: the divisor must be positive"),
              std::string::npos);
  }
}

TEST(Expr, OverflowIsAnError) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(evalError(constant(max) + constant(1)),
            "9223372036854775807 + 1 overflows i64");
  EXPECT_EQ(evalError(symbol(0) * symbol(0), {int64_t(1) << 32}),
            "4294967296 * 4294967296 overflows i64");
  EXPECT_EQ(value(constant(max) + constant(-1)), max - 1);
}

TEST(Expr, CheckRejectsMalformedPrograms) {
  EXPECT_EQ(checkError(ExprSpec{}, 0), "the expression is empty");
  EXPECT_EQ(checkError(ExprSpec{{{Kind::Add, 0}}}, 0),
            "op 0 (Add) needs 2 values but the stack holds 0");
  EXPECT_EQ(checkError(ExprSpec{{{Kind::Const, 1}, {Kind::Mul, 0}}}, 0),
            "op 1 (Mul) needs 2 values but the stack holds 1");
  EXPECT_EQ(checkError(ExprSpec{{{Kind::Const, 1}, {Kind::Const, 2}}}, 0),
            "the expression leaves 2 values on the stack instead of 1");
  EXPECT_EQ(checkError(symbol(2), 2),
            "op 0: symbol 2 is out of range (2 symbols)");
  EXPECT_EQ(checkError(symbol(-1), 2),
            "op 0: symbol -1 is out of range (2 symbols)");
  EXPECT_EQ(checkError(ExprSpec{{{Kind(9), 0}}}, 0), "op 0: unknown kind 9");
  EXPECT_EQ(checkError(ExprSpec{{{Kind(1), 0}}}, 0),
            "op 0: symbol 0 is out of range (0 symbols)");

  ExprBuffer good(ceilDiv(symbol(0) * symbol(1), constant(4)));
  EXPECT_TRUE(checkExpr(good.get(), 2).ok());
  EXPECT_FALSE(checkExpr(nullptr, 2).ok());
}

TEST(Expr, EvaluationRejectsWhatCheckRejects) {
  // evaluateExpr does not rely on checkExpr having run.
  EXPECT_EQ(evalError(ExprSpec{{{Kind::Add, 0}}}),
            "op 0 (Add) pops an empty stack");
  EXPECT_EQ(evalError(symbol(3), {1}),
            "op 0: symbol 3 is out of range (1 symbols)");
  EXPECT_EQ(evalError(ExprSpec{{{Kind(200), 0}}}), "op 0: unknown kind 200");
}

TEST(Expr, DeepProgramsEvaluate) {
  // Deeper than the inline stack: 100 constants, then 99 adds.
  ExprSpec deep;
  for (int i = 1; i <= 100; ++i)
    deep.ops.push_back({Kind::Const, i});
  for (int i = 1; i < 100; ++i)
    deep.ops.push_back({Kind::Add, 0});
  EXPECT_EQ(value(deep), 5050);
}

TEST(Expr, FormatsAsInfixWithTheNeededParentheses) {
  std::vector<std::string> names = {"batch", "tokens"};
  auto text = [&](const ExprSpec &spec) {
    ExprBuffer buffer(spec);
    return formatExpr(buffer.get(), names);
  };
  EXPECT_EQ(text(symbol(0) * symbol(1)), "batch * tokens");
  EXPECT_EQ(text(ceilDiv(symbol(1) + constant(3), constant(4))),
            "(tokens + 3) ceildiv 4");
  EXPECT_EQ(text(symbol(0) * ceilDiv(symbol(1), constant(2))),
            "batch * (tokens ceildiv 2)");
  EXPECT_EQ(text(symbol(0) + (symbol(1) + constant(1))), "batch + tokens + 1");
  EXPECT_EQ(text(op(symbol(0), op(symbol(1), constant(2), Kind::Mod),
                    Kind::FloorDiv)),
            "batch floordiv (tokens mod 2)");
  EXPECT_EQ(text(symbol(5)), "s5");
  EXPECT_EQ(text(ExprSpec{{{Kind::Add, 0}}}), "<invalid expression>");
}

} // namespace

//===- Router.cpp - MoE routing: gate, top-k selection, the permutation ---===//
//
// The router's selection per token is a few hundred scalar operations
// (scores, group scores, k passes of argmax over at most 256 experts), so
// it is plain scalar loops, one token per workgroup; moe_topk reads the
// token's logits from memory, moe_router computes them first (the gate
// GEMV, experts x hidden multiply-adds, the only part worth vectorizing)
// into a stack buffer, and both then run the same selection. Ties go to
// the lower index everywhere (strict comparisons while scanning upwards),
// as the reference does. moe_permute is one workgroup's counting sort that
// groups token-expert pairs by expert.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Generators.h"
#include "targets/cpu/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <limits>

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

/// Tokens a moe_router workgroup routes: their logits come from one pass
/// over the gate, each widened gate vector serving all of them.
constexpr int64_t kTokensPerWorkgroup = 4;

/// (value, index) of the largest of `values[base + i]` for i < count,
/// the lowest index among equals.
std::pair<Value, Value> argmax(KernelBuilder &kb, Value values, Value base,
                               int64_t count) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  Value first = memref::LoadOp::create(b, loc, values, ValueRange{base});
  SmallVector<Value> best = kb.forLoop(
      kb.index(1), kb.index(count), kb.index(1), ValueRange{first, kb.index(0)},
      [&](Value i, ValueRange carried) -> SmallVector<Value> {
        Value v = memref::LoadOp::create(b, loc, values,
                                         ValueRange{kb.add(base, i)});
        Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v,
                                             carried[0]);
        return {arith::SelectOp::create(b, loc, better, v, carried[0]),
                arith::SelectOp::create(b, loc, better, i, carried[1])};
      });
  return {best[0], best[1]};
}

/// What moe_topk and moe_router do once a token's logits are known:
/// scores, group limiting, top-k and the weights.
class Selection {
public:
  /// Logit of expert `e` (an index) of the token being routed.
  using LogitAt = function_ref<Value(Value e)>;

  Selection(KernelBuilder &kb, const MoETopkSpec &s, Value bias)
      : kb(kb), b(kb.builder()), loc(kb.getLoc()), s(s), bias(bias) {}

  /// Routes token `token` into its rows of `ids` and `weights`.
  void emit(LogitAt logitAt, Value ids, Value weights, Value token);

private:
  Value scratch(int64_t size) {
    return memref::AllocaOp::create(b, loc,
                                    MemRefType::get({size}, b.getF32Type()));
  }
  Value load(Value memref, ValueRange at) {
    return memref::LoadOp::create(b, loc, memref, at);
  }
  void store(Value value, Value memref, ValueRange at) {
    memref::StoreOp::create(b, loc, value, memref, at);
  }
  Value negInf() { return kb.f32(-std::numeric_limits<float>::infinity()); }

  /// scores: sigmoid, or softmax over all experts.
  void score(LogitAt logitAt, Value scores);
  /// choice: the scores plus the correction bias, for selection only.
  void biasChoice(Value scores, Value choice);
  /// Excludes from `choice` the experts of all but the best topk_group
  /// groups.
  void limitGroups(Value choice);
  /// Top-k by k passes of argmax; the weights are the unbiased scores.
  void select(Value scores, Value choice, Value ids, Value weights,
              Value token);

  KernelBuilder &kb;
  OpBuilder &b;
  Location loc;
  const MoETopkSpec &s;
  Value bias;
};

void Selection::emit(LogitAt logitAt, Value ids, Value weights, Value token) {
  Value scores = scratch(s.experts), choice = scratch(s.experts);
  score(logitAt, scores);
  biasChoice(scores, choice);
  if (s.groups > 1)
    limitGroups(choice);
  select(scores, choice, ids, weights, token);
}

void Selection::score(LogitAt logitAt, Value scores) {
  const int64_t E = s.experts;
  if (s.sigmoid) {
    kb.forLoop(0, E, 1,
               [&](Value e) { store(kb.sigmoid(logitAt(e)), scores, {e}); });
    return;
  }
  Value zero = kb.index(0);
  SmallVector<Value> max = kb.forLoop(
      zero, kb.index(E), kb.index(1), ValueRange{negInf()},
      [&](Value e, ValueRange carried) -> SmallVector<Value> {
        return {arith::MaxNumFOp::create(b, loc, carried[0], logitAt(e))};
      });
  SmallVector<Value> sum = kb.forLoop(
      zero, kb.index(E), kb.index(1), ValueRange{kb.f32(0.0)},
      [&](Value e, ValueRange carried) -> SmallVector<Value> {
        Value p = kb.exp(arith::SubFOp::create(b, loc, logitAt(e), max[0]));
        store(p, scores, {e});
        return {arith::AddFOp::create(b, loc, carried[0], p)};
      });
  kb.forLoop(0, E, 1, [&](Value e) {
    store(arith::DivFOp::create(b, loc, load(scores, {e}), sum[0]), scores,
          {e});
  });
}

void Selection::biasChoice(Value scores, Value choice) {
  kb.forLoop(0, s.experts, 1, [&](Value e) {
    Value v = load(scores, {e});
    if (bias) {
      Value bv = load(bias, {e});
      if (!bv.getType().isF32())
        bv = arith::ExtFOp::create(b, loc, b.getF32Type(), bv);
      v = arith::AddFOp::create(b, loc, v, bv);
    }
    store(v, choice, {e});
  });
}

void Selection::limitGroups(Value choice) {
  // A group scores the sum of its two best choice scores (with a bias) or
  // its best.
  const int64_t size = s.experts / s.groups;
  Value zero = kb.index(0);
  Value groupScores = scratch(s.groups), kept = scratch(s.groups);
  kb.forLoop(0, s.groups, 1, [&](Value g) {
    Value base = kb.mul(g, kb.index(size));
    auto [best, at] = argmax(kb, choice, base, size);
    Value score = best;
    if (bias && size > 1) {
      // The second best: the best of the others.
      SmallVector<Value> second = kb.forLoop(
          zero, kb.index(size), kb.index(1), ValueRange{negInf()},
          [&](Value i, ValueRange carried) -> SmallVector<Value> {
            Value v = load(choice, {kb.add(base, i)});
            Value other =
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, i, at);
            Value better = arith::AndIOp::create(
                b, loc, other,
                arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v,
                                      carried[0]));
            return {arith::SelectOp::create(b, loc, better, v, carried[0])};
          });
      score = arith::AddFOp::create(b, loc, best, second[0]);
    }
    store(score, groupScores, {g});
    store(kb.f32(0.0), kept, {g});
  });
  kb.forLoop(0, s.topkGroups, 1, [&](Value) {
    Value g = argmax(kb, groupScores, zero, s.groups).second;
    store(kb.f32(1.0), kept, {g});
    store(negInf(), groupScores, {g});
  });
  kb.forLoop(0, s.experts, 1, [&](Value e) {
    Value g = kb.div(e, kb.index(size));
    Value isKept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                         load(kept, {g}), kb.f32(1.0));
    store(arith::SelectOp::create(b, loc, isKept, load(choice, {e}), negInf()),
          choice, {e});
  });
}

void Selection::select(Value scores, Value choice, Value ids, Value weights,
                       Value token) {
  Value zero = kb.index(0);
  SmallVector<Value> total =
      kb.forLoop(zero, kb.index(s.topk), kb.index(1), ValueRange{kb.f32(0.0)},
                 [&](Value j, ValueRange carried) -> SmallVector<Value> {
                   Value e = argmax(kb, choice, zero, s.experts).second;
                   store(negInf(), choice, {e});
                   store(arith::IndexCastOp::create(b, loc, b.getI32Type(), e),
                         ids, {token, j});
                   Value w = load(scores, {e});
                   store(w, weights, {token, j});
                   return {arith::AddFOp::create(b, loc, carried[0], w)};
                 });
  Value factor = kb.f32(s.scaling);
  if (s.renormalize)
    factor = arith::DivFOp::create(b, loc, factor, total[0]);
  kb.forLoop(0, s.topk, 1, [&](Value j) {
    store(arith::MulFOp::create(b, loc, load(weights, {token, j}), factor),
          weights, {token, j});
  });
}

/// logits[r, e] = x[tokens[r]] · gate[e] in f32 for every expert, `step`
/// gate rows at a time: each widened gate vector meets every token's x, and
/// the tokens x experts accumulators are independent FMA chains.
void emitGateLogits(KernelBuilder &kb, const MoERouterSpec &s, int64_t lanes,
                    Value x, Value gate, ArrayRef<Value> tokens,
                    int64_t firstRow, int64_t step, Value logits) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  const int64_t E = s.topk.experts, rows = tokens.size();
  auto accumulate = [&](ArrayRef<Value> experts, Value k0, ValueRange acc,
                        Value mask) {
    SmallVector<Value> w;
    for (Value e : experts)
      w.push_back(kb.loadF32(gate, {e, k0}, lanes, s.gateType, mask));
    SmallVector<Value> next(acc.begin(), acc.end());
    for (int64_t r = 0; r < rows; ++r) {
      Value xv = kb.loadF32(x, {tokens[r], k0}, lanes, b.getF32Type(), mask);
      for (int64_t j = 0; j < step; ++j)
        next[r * step + j] = kb.fma(xv, w[j], next[r * step + j]);
    }
    return next;
  };
  const int64_t full = s.hidden / lanes * lanes, tail = s.hidden - full;
  kb.forLoop(0, (E + step - 1) / step * step, step, [&](Value e0) {
    // Past the last expert, the last one again: it stores the same logit.
    SmallVector<Value> experts;
    for (int64_t j = 0; j < step; ++j)
      experts.push_back(kb.min(kb.add(e0, kb.index(j)), kb.index(E - 1)));
    SmallVector<Value> acc(rows * step, kb.zeros(lanes));
    acc = kb.forLoop(kb.index(0), kb.index(full), kb.index(lanes), acc,
                     [&](Value k0, ValueRange carried) {
                       return accumulate(experts, k0, carried, Value());
                     });
    if (tail > 0)
      acc = accumulate(experts, kb.index(full), acc, kb.mask(lanes, tail));
    SmallVector<Value> sums = kb.reduceAddEach(acc);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < step; ++j)
        memref::StoreOp::create(
            b, loc, sums[r * step + j], logits,
            ValueRange{kb.index(firstRow + r), experts[j]});
  });
}

/// The launch grid of the per-token kernels: a token (or a block of them)
/// per workgroup.
std::array<AffineExpr, 3> tokenGrid(MLIRContext *context,
                                    int64_t tokensPerWorkgroup = 1) {
  AffineExpr one = getAffineConstantExpr(1, context);
  return {getAffineSymbolExpr(0, context).ceilDiv(tokensPerWorkgroup), one,
          one};
}

} // namespace

FailureOr<func::FuncOp> lathe::cpu::buildMoETopk(OpBuilder &outer, Location loc,
                                                 StringRef name,
                                                 const MoETopkSpec &s,
                                                 const CpuDescription &) {
  KernelBuilder kb(outer, loc, name, kernelFamily(s), kernelInterface(s),
                   tokenGrid(outer.getContext()));
  Type f32 = kb.builder().getF32Type(), i32 = kb.builder().getI32Type();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  int64_t next = 0;
  Value logits = kb.binding(next++, {dyn, s.experts}, f32, m);
  Value bias =
      s.biasType ? kb.binding(next++, {s.experts}, *s.biasType) : Value();
  Value ids = kb.binding(next++, {dyn, s.topk}, i32, m);
  Value weights = kb.binding(next, {dyn, s.topk}, f32, m);
  Value token = kb.workgroupId(0);
  Selection(kb, s, bias)
      .emit(
          [&](Value e) -> Value {
            return memref::LoadOp::create(kb.builder(), loc, logits,
                                          ValueRange{token, e});
          },
          ids, weights, token);
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildMoERouter(OpBuilder &outer,
                                                   Location loc, StringRef name,
                                                   const MoERouterSpec &s,
                                                   const CpuDescription &cpu) {
  const MoETopkSpec &t = s.topk;
  KernelBuilder kb(outer, loc, name, kernelFamily(s), kernelInterface(s),
                   tokenGrid(outer.getContext(), kTokensPerWorkgroup));
  OpBuilder &b = kb.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  int64_t next = 0;
  Value x = kb.binding(next++, {dyn, s.hidden}, f32, m);
  Value gate = kb.binding(next++, {t.experts, s.hidden}, s.gateType);
  Value bias =
      t.biasType ? kb.binding(next++, {t.experts}, *t.biasType) : Value();
  Value ids = kb.binding(next++, {dyn, t.topk}, i32, m);
  Value weights = kb.binding(next, {dyn, t.topk}, f32, m);
  // A full block of tokens shares each gate vector (registers: tokens x
  // step accumulators, step gate vectors, one x); a partial one (decode's
  // single token) takes more gate rows per step instead, for independent
  // FMA chains.
  const int64_t R = kTokensPerWorkgroup;
  const int64_t blockStep = cpu.registers >= 32 ? 4 : 2, rowStep = 8;
  Value t0 = kb.mul(kb.workgroupId(0), kb.index(R));
  Value count = kb.min(kb.sub(m, t0), kb.index(R));
  Value logits =
      memref::AllocaOp::create(b, loc, MemRefType::get({R, t.experts}, f32));
  Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, count,
                                     kb.index(R));
  kb.ifThenElse(
      full,
      [&] {
        SmallVector<Value> tokens;
        for (int64_t r = 0; r < R; ++r)
          tokens.push_back(kb.add(t0, kb.index(r)));
        emitGateLogits(kb, s, cpu.lanes, x, gate, tokens, 0, blockStep,
                       logits);
      },
      [&] {
        for (int64_t r = 0; r < R - 1; ++r)
          kb.ifThen(kb.lt(kb.index(r), count), [&] {
            emitGateLogits(kb, s, cpu.lanes, x, gate,
                           {kb.add(t0, kb.index(r))}, r, rowStep, logits);
          });
      });
  Selection selection(kb, t, bias);
  kb.forLoop(kb.index(0), count, kb.index(1), [&](Value r) {
    // The selection's scratch buffers live for one token.
    auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&scope.getBodyRegion().emplaceBlock());
    selection.emit(
        [&](Value e) -> Value {
          return memref::LoadOp::create(b, loc, logits, ValueRange{r, e});
        },
        ids, weights, kb.add(t0, r));
    memref::AllocaScopeReturnOp::create(b, loc, ValueRange{});
  });
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildMoEPermute(OpBuilder &outer,
                                                    Location loc, StringRef name,
                                                    const MoEPermuteSpec &s,
                        const CpuDescription &) {
  MLIRContext *context = outer.getContext();
  AffineExpr one = getAffineConstantExpr(1, context);
  KernelBuilder kb(outer, loc, name, kernelFamily(s), kernelInterface(s),
                   {one, one, one});
  OpBuilder &b = kb.builder();
  Type i32 = b.getI32Type();
  const int64_t dyn = ShapedType::kDynamic, E = s.experts;
  Value pairs = kb.scalar(0);
  Value ids = kb.binding(0, {dyn}, i32, pairs);
  Value offsets = kb.binding(1, {E + 1}, i32);
  Value order = kb.binding(2, {dyn}, i32, pairs);
  Value cursor = memref::AllocaOp::create(b, loc, MemRefType::get({E}, i32));
  auto load = [&](Value memref, Value at) -> Value {
    return memref::LoadOp::create(b, loc, memref, ValueRange{at});
  };
  auto store = [&](Value value, Value memref, Value at) {
    memref::StoreOp::create(b, loc, value, memref, ValueRange{at});
  };
  auto expertOf = [&](Value p) {
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), load(ids, p));
  };
  Value oneI32 = kb.i32(1);

  // Counts, shifted by one: offsets[e + 1] = pairs of expert e.
  kb.forLoop(0, E + 1, 1, [&](Value e) { store(kb.i32(0), offsets, e); });
  kb.forLoop(kb.index(0), pairs, kb.index(1), [&](Value p) {
    Value slot = kb.add(expertOf(p), kb.index(1));
    store(arith::AddIOp::create(b, loc, load(offsets, slot), oneI32), offsets,
          slot);
  });
  // Prefix sums give each expert's first entry; pairs keep their order.
  kb.forLoop(0, E, 1, [&](Value e) {
    Value begin = load(offsets, e);
    store(begin, cursor, e);
    Value slot = kb.add(e, kb.index(1));
    store(arith::AddIOp::create(b, loc, load(offsets, slot), begin), offsets,
          slot);
  });
  kb.forLoop(kb.index(0), pairs, kb.index(1), [&](Value p) {
    Value e = expertOf(p);
    Value at = load(cursor, e);
    store(arith::IndexCastOp::create(b, loc, i32, p), order,
          arith::IndexCastUIOp::create(b, loc, b.getIndexType(), at));
    store(arith::AddIOp::create(b, loc, at, oneI32), cursor, e);
  });
  return kb.getFunction();
}

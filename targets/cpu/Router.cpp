//===- Router.cpp - MoE routing: top-k selection and the permutation ------===//
//
// The router's work per token is a few hundred scalar operations (scores,
// group scores, k passes of argmax over at most 256 experts), so these
// kernels are plain scalar loops: one token per workgroup for the top-k,
// one workgroup for the counting sort that groups token-expert pairs by
// expert. Ties go to the lower index everywhere (strict comparisons while
// scanning upwards), as the reference does.
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

} // namespace

FailureOr<func::FuncOp> lathe::cpu::buildMoETopk(OpBuilder &outer, Location loc,
                                                 StringRef name,
                                                 const MoETopkSpec &s,
                        const CpuDescription &) {
  MLIRContext *context = outer.getContext();
  AffineExpr one = getAffineConstantExpr(1, context);
  KernelBuilder kb(outer, loc, name, "moe_topk", kernelInterface(s),
                   {getAffineSymbolExpr(0, context), one, one});
  OpBuilder &b = kb.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t dyn = ShapedType::kDynamic, E = s.experts;
  Value m = kb.scalar(0);
  int64_t next = 0;
  Value logits = kb.binding(next++, {dyn, E}, f32, m);
  Value bias = s.biasType ? kb.binding(next++, {E}, *s.biasType) : Value();
  Value ids = kb.binding(next++, {dyn, s.topk}, i32, m);
  Value weights = kb.binding(next, {dyn, s.topk}, f32, m);
  Value token = kb.workgroupId(0);
  Value negInf = kb.f32(-std::numeric_limits<float>::infinity());
  auto scratch = [&](int64_t size) {
    return memref::AllocaOp::create(b, loc, MemRefType::get({size}, f32));
  };
  auto load = [&](Value memref, ValueRange at) -> Value {
    return memref::LoadOp::create(b, loc, memref, at);
  };
  auto store = [&](Value value, Value memref, ValueRange at) {
    memref::StoreOp::create(b, loc, value, memref, at);
  };

  // Scores: sigmoid, or softmax over all experts.
  Value scores = scratch(E), choice = scratch(E);
  Value zero = kb.index(0);
  if (s.sigmoid) {
    kb.forLoop(0, E, 1, [&](Value e) {
      store(kb.sigmoid(load(logits, {token, e})), scores, {e});
    });
  } else {
    SmallVector<Value> max = kb.forLoop(
        zero, kb.index(E), kb.index(1), ValueRange{negInf},
        [&](Value e, ValueRange carried) -> SmallVector<Value> {
          return {arith::MaxNumFOp::create(b, loc, carried[0],
                                           load(logits, {token, e}))};
        });
    SmallVector<Value> sum = kb.forLoop(
        zero, kb.index(E), kb.index(1), ValueRange{kb.f32(0.0)},
        [&](Value e, ValueRange carried) -> SmallVector<Value> {
          Value p = kb.exp(
              arith::SubFOp::create(b, loc, load(logits, {token, e}), max[0]));
          store(p, scores, {e});
          return {arith::AddFOp::create(b, loc, carried[0], p)};
        });
    kb.forLoop(0, E, 1, [&](Value e) {
      store(arith::DivFOp::create(b, loc, load(scores, {e}), sum[0]), scores, {e});
    });
  }
  // Choice scores: the scores plus the correction bias, for selection only.
  kb.forLoop(0, E, 1, [&](Value e) {
    Value v = load(scores, {e});
    if (bias) {
      Value bv = load(bias, {e});
      if (!bv.getType().isF32())
        bv = arith::ExtFOp::create(b, loc, f32, bv);
      v = arith::AddFOp::create(b, loc, v, bv);
    }
    store(v, choice, {e});
  });

  // Group limiting: a group scores the sum of its two best choice scores
  // (with a bias) or its best; the best topk_group groups stay eligible.
  if (s.groups > 1) {
    const int64_t size = E / s.groups;
    Value groupScores = scratch(s.groups), kept = scratch(s.groups);
    kb.forLoop(0, s.groups, 1, [&](Value g) {
      Value base = kb.mul(g, kb.index(size));
      auto [best, at] = argmax(kb, choice, base, size);
      Value score = best;
      if (bias && size > 1) {
        // The second best: the best of the others.
        SmallVector<Value> second = kb.forLoop(
            zero, kb.index(size), kb.index(1), ValueRange{negInf},
            [&](Value i, ValueRange carried) -> SmallVector<Value> {
              Value v = load(choice, {kb.add(base, i)});
              Value other = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                                  i, at);
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
      auto [best, g] = argmax(kb, groupScores, zero, s.groups);
      (void)best;
      store(kb.f32(1.0), kept, {g});
      store(negInf, groupScores, {g});
    });
    kb.forLoop(0, E, 1, [&](Value e) {
      Value g = kb.div(e, kb.index(size));
      Value isKept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                           load(kept, {g}), kb.f32(1.0));
      store(arith::SelectOp::create(b, loc, isKept, load(choice, {e}), negInf),
            choice, {e});
    });
  }

  // Top-k by k passes of argmax; the weights are the unbiased scores.
  SmallVector<Value> total = kb.forLoop(
      zero, kb.index(s.topk), kb.index(1), ValueRange{kb.f32(0.0)},
      [&](Value j, ValueRange carried) -> SmallVector<Value> {
        auto [best, e] = argmax(kb, choice, zero, E);
        (void)best;
        store(negInf, choice, {e});
        store(arith::IndexCastOp::create(b, loc, i32, e), ids, {token, j});
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
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildMoEPermute(OpBuilder &outer,
                                                    Location loc, StringRef name,
                                                    const MoEPermuteSpec &s,
                        const CpuDescription &) {
  MLIRContext *context = outer.getContext();
  AffineExpr one = getAffineConstantExpr(1, context);
  KernelBuilder kb(outer, loc, name, "moe_permute", kernelInterface(s),
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

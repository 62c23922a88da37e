//===- Gemm.cpp - y = x · Wᵀ on the CPU -----------------------------------===//
//
// Weights stay as the checkpoint stores them, [n, k] row-major in bf16, f16,
// f32 or FP8, so every output is a dot product along k: a micro-kernel keeps
// MR x NR accumulators of 16 f32 lanes, widens each 16-element slice of a
// weight row to f32 in registers, and sums the lanes once at the end.
//
// A workgroup owns NT output columns and, for direct rows, MT rows of x; it
// runs the 4-row micro-kernel over full groups of rows and a 1-row one over
// the rest. A decode step (one row) is thus a GEMV that reads each weight
// once, 8 rows at a time, which is what makes it bandwidth-bound rather than
// bound by wasted FMAs. Grouped rows (MoE experts) take their rows from the
// expert's segment of a permutation, and the expert's weights from a table.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Generators.h"
#include "targets/cpu/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

constexpr int64_t kColumnsPerWorkgroup = 64;
constexpr int64_t kRowsPerWorkgroup = 32;

/// One row group of the micro-kernel: where its x rows are, where its
/// outputs go, and what each output row is scaled by.
struct Rows {
  SmallVector<Value> x, y, scale;
};

class GemmEmitter {
public:
  GemmEmitter(KernelBuilder &kb, const GemmSpec &spec) : kb(kb), s(spec) {}

  Value x, y, rowWeights;
  SmallVector<Value> weights, scales;

  /// Outputs [rows] x [n0, n0 + nr) clamped to columns below `nEnd`.
  void micro(const Rows &rows, Value n0, int64_t nr, Value nEnd);
  /// Every column tile [n0, nEnd) of the row groups in [begin, end), 4 rows
  /// at a time and then one; `rowsAt(i)` gives the row of entry i.
  void rowLoop(Value begin, Value end, Value n0, Value nEnd,
               const std::function<Rows(ArrayRef<Value>)> &rowsAt);

private:
  /// The accumulators after one k step of 16 lanes at `k0`.
  SmallVector<Value> step(const Rows &rows, ArrayRef<Value> cols, Value k0,
                          ValueRange acc, Value mask);

  KernelBuilder &kb;
  const GemmSpec &s;
};

SmallVector<Value> GemmEmitter::step(const Rows &rows, ArrayRef<Value> cols,
                                     Value k0, ValueRange acc, Value mask) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  const int64_t mr = rows.x.size(), nr = cols.size(), nw = weights.size();
  SmallVector<Value> xs;
  for (Value row : rows.x)
    xs.push_back(kb.loadF32(x, {row, k0}, kVectorWidth, b.getF32Type(), mask));
  SmallVector<Value> next(acc.begin(), acc.end());
  for (int64_t wi = 0; wi < nw; ++wi) {
    for (int64_t j = 0; j < nr; ++j) {
      Value w = kb.loadF32(weights[wi], {cols[j], k0}, kVectorWidth,
                           s.weight.elementType, mask);
      if (s.weight.block) {
        auto [bn, bk] = *s.weight.block;
        Value scale = memref::LoadOp::create(
            b, loc, scales[wi],
            ValueRange{kb.div(cols[j], kb.index(bn)), kb.div(k0, kb.index(bk))});
        w = arith::MulFOp::create(b, loc, w, kb.splat(scale, kVectorWidth));
      }
      for (int64_t i = 0; i < mr; ++i) {
        int64_t slot = (i * nr + j) * nw + wi;
        next[slot] = kb.fma(xs[i], w, next[slot]);
      }
    }
  }
  return next;
}

void GemmEmitter::micro(const Rows &rows, Value n0, int64_t nr, Value nEnd) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  const int64_t mr = rows.x.size(), nw = weights.size();
  // Columns past the end load the last column again; their results are
  // dropped at the store.
  SmallVector<Value> cols;
  for (int64_t j = 0; j < nr; ++j)
    cols.push_back(kb.min(kb.add(n0, kb.index(j)), kb.index(s.n - 1)));

  SmallVector<Value> acc(mr * nr * nw, kb.zeros(kVectorWidth));
  const int64_t kMain = s.k / kVectorWidth * kVectorWidth;
  if (kMain > 0)
    acc = kb.forLoop(kb.index(0), kb.index(kMain), kb.index(kVectorWidth), acc,
                     [&](Value k0, ValueRange carried) {
                       return step(rows, cols, k0, carried, Value());
                     });
  if (int64_t tail = s.k - kMain)
    acc = step(rows, cols, kb.index(kMain), acc, kb.mask(kVectorWidth, tail));

  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j) {
      int64_t slot = (i * nr + j) * nw;
      Value value = kb.reduceAdd(acc[slot]);
      if (s.swiglu)
        value = arith::MulFOp::create(b, loc, kb.silu(value),
                                      kb.reduceAdd(acc[slot + 1]));
      if (!rows.scale.empty())
        value = arith::MulFOp::create(b, loc, value, rows.scale[i]);
      Value col = kb.add(n0, kb.index(j));
      kb.ifThen(kb.lt(col, nEnd), [&] {
        memref::StoreOp::create(b, loc, value, y, ValueRange{rows.y[i], col});
      });
    }
  }
}

void GemmEmitter::rowLoop(Value begin, Value end, Value n0, Value nEnd,
                          const std::function<Rows(ArrayRef<Value>)> &rowsAt) {
  // Register budget: MR x NR x weights accumulators of 16 lanes.
  const int64_t nr4 = s.swiglu ? 2 : 4, nr1 = s.swiglu ? 4 : 8;
  Value fullEnd = kb.add(begin, kb.mul(kb.div(kb.sub(end, begin), kb.index(4)),
                                       kb.index(4)));
  kb.forLoop(begin, fullEnd, kb.index(4), [&](Value i) {
    SmallVector<Value> entries;
    for (int64_t r = 0; r < 4; ++r)
      entries.push_back(kb.add(i, kb.index(r)));
    Rows rows = rowsAt(entries);
    kb.forLoop(n0, nEnd, kb.index(nr4),
               [&](Value nb) { micro(rows, nb, nr4, nEnd); });
  });
  kb.forLoop(fullEnd, end, kb.index(1), [&](Value i) {
    Rows rows = rowsAt({i});
    kb.forLoop(n0, nEnd, kb.index(nr1),
               [&](Value nb) { micro(rows, nb, nr1, nEnd); });
  });
}

} // namespace

FailureOr<func::FuncOp> lathe::cpu::buildGemm(OpBuilder &outer, Location loc,
                                              StringRef name,
                                              const GemmSpec &s) {
  MLIRContext *context = outer.getContext();
  AffineExpr s0 = getAffineSymbolExpr(0, context);
  const int64_t nt = std::min(kColumnsPerWorkgroup, s.n);
  AffineExpr columnTiles = getAffineConstantExpr((s.n + nt - 1) / nt, context);
  AffineExpr one = getAffineConstantExpr(1, context);
  std::array<AffineExpr, 3> grid =
      s.grouped ? std::array<AffineExpr, 3>{columnTiles,
                                            getAffineConstantExpr(s.experts,
                                                                  context),
                                            one}
                : std::array<AffineExpr, 3>{columnTiles,
                                            s0.ceilDiv(kRowsPerWorkgroup), one};
  KernelBuilder kb(outer, loc, name, "gemm", kernelInterface(s), grid);
  OpBuilder &b = kb.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t dyn = ShapedType::kDynamic;
  Type storage = KernelBuilder::storageType(s.weight);
  SmallVector<int64_t> weightShape = {s.n, s.k}, scaleShape;
  if (s.weight.block)
    scaleShape = {(s.n + (*s.weight.block)[0] - 1) / (*s.weight.block)[0],
                  (s.k + (*s.weight.block)[1] - 1) / (*s.weight.block)[1]};

  GemmEmitter gemm(kb, s);
  Value xRows = kb.scalar(0);
  gemm.x = kb.binding(0, {dyn, s.k}, f32, xRows);
  const int64_t numWeights = s.swiglu ? 2 : 1;
  int64_t next = 1;
  Value expert = s.grouped ? kb.workgroupId(1) : Value();
  for (int64_t wi = 0; wi < numWeights; ++wi) {
    gemm.weights.push_back(
        s.grouped ? kb.tableEntry(next, expert, weightShape, storage)
                  : kb.binding(next, weightShape, storage));
    ++next;
    if (s.weight.block) {
      gemm.scales.push_back(s.grouped
                                ? kb.tableEntry(next, expert, scaleShape, f32)
                                : kb.binding(next, scaleShape, f32));
      ++next;
    }
  }

  Value n0 = kb.mul(kb.workgroupId(0), kb.index(nt));
  Value nEnd = kb.min(kb.add(n0, kb.index(nt)), kb.index(s.n));
  if (!s.grouped) {
    gemm.y = kb.binding(next, {dyn, s.n}, f32, xRows);
    Value m0 = kb.mul(kb.workgroupId(1), kb.index(kRowsPerWorkgroup));
    Value mEnd = kb.min(kb.add(m0, kb.index(kRowsPerWorkgroup)), xRows);
    gemm.rowLoop(m0, mEnd, n0, nEnd, [](ArrayRef<Value> entries) {
      Rows rows;
      rows.x.assign(entries.begin(), entries.end());
      rows.y = rows.x;
      return rows;
    });
    return kb.getFunction();
  }

  Value pairs = kb.scalar(1);
  Value offsets = kb.binding(next++, {s.experts + 1}, i32);
  Value order = kb.binding(next++, {dyn}, i32, pairs);
  if (s.rowScale)
    gemm.rowWeights = kb.binding(next++, {dyn}, f32, pairs);
  gemm.y = kb.binding(next, {dyn, s.n}, f32, pairs);
  Value begin = kb.loadIndex(offsets, {expert});
  Value end = kb.loadIndex(offsets, {kb.add(expert, kb.index(1))});
  gemm.rowLoop(begin, end, n0, nEnd, [&](ArrayRef<Value> entries) {
    Rows rows;
    for (Value entry : entries) {
      Value pair = kb.loadIndex(order, {entry});
      rows.x.push_back(s.xRowDiv == 1 ? pair
                                      : kb.div(pair, kb.index(s.xRowDiv)));
      rows.y.push_back(pair);
      if (s.rowScale)
        rows.scale.push_back(
            memref::LoadOp::create(b, kb.getLoc(), gemm.rowWeights, pair));
    }
    return rows;
  });
  return kb.getFunction();
}

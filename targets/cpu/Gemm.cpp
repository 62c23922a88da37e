//===- Gemm.cpp - y = x · Wᵀ on the CPU -----------------------------------===//
//
// Weights stay as the checkpoint stores them, [n, k] row-major in bf16, f16,
// f32 or FP8, so every output is a dot product along k: a micro-kernel keeps
// MR x NR accumulators of one vector register each, widens each register's
// worth of a weight row to f32 once per k step (bf16 by a shift), uses it
// for all MR rows, and sums the lanes once at the end.
//
// The register blocking comes from the CPU's description (chooseBlocking):
// the accumulators must fit in its vector registers (32 zmm with AVX-512,
// 16 ymm with AVX2) or the inner loop spills. A workgroup owns NT output
// columns and, for direct rows, a few groups of MR rows of x; it runs the
// MR-row micro-kernel over full groups of rows, an r-row one over the last
// 2 <= r < MR rows (with as many columns as the registers allow: an
// expert's segment of a dozen rows often leaves such a rest, which a 1-row
// kernel would serve at a widened weight per row) and a 1-row one (more
// columns, for more independent weight streams) over a last single row. A
// decode step (one row) is thus a GEMV that reads each weight once, eight
// rows at a time, prefetching the next eight and widening bf16 two
// registers at a time (a shift and a mask per 32-bit lane hold two bf16),
// which keeps it bound by memory bandwidth. Grouped rows (MoE experts) take
// their rows from the expert's segment of a permutation, and the expert's
// weights from a table.
//
// FP8 weights have one scale per 128x128 block. The columns a micro-kernel
// stores lie in its workgroup's 64, which lie in one block row (columns
// past the tile are computed from clamped rows and dropped), so within a
// block of k the scale is one number: it
// multiplies the rows of x instead of the NR weight vectors, loaded once
// per block. With F16C the codes widen through f16 (three integer ops and
// vcvtph2ps per register; the 2^8 between e4m3's and f16's exponent biases
// goes into the scale).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Generators.h"
#include "targets/cpu/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

constexpr int64_t kColumnsPerWorkgroup = 64;
constexpr int64_t kRowGroupsPerWorkgroup = 5;
/// Most columns of a micro-kernel.
constexpr int64_t kMaxColumns = 8;

/// How a workgroup's outputs are blocked into registers.
struct Blocking {
  /// f32 lanes of one accumulator.
  int64_t lanes;
  /// Rows (MR) and columns (NR) of the multi-row micro-kernel, columns of
  /// the 1-row one.
  int64_t rows, columns, singleRowColumns;
  /// Registers the accumulators and widened weights may take.
  int64_t registers;

  /// Rows of x a workgroup takes: whole groups of MR.
  int64_t rowsPerWorkgroup() const { return rows * kRowGroupsPerWorkgroup; }
  /// Columns of the micro-kernel for the last `r` (2 <= r < MR) rows of a
  /// range: as many as their accumulators and weights fit in registers
  /// (nw weights per column: 2 with SwiGLU), so that each widened weight
  /// still serves r rows instead of the 1-row kernel's one.
  int64_t columnsFor(int64_t r, int64_t nw) const {
    return std::clamp<int64_t>(registers / (nw * (r + 1)), 1, kMaxColumns);
  }
};

Blocking chooseBlocking(const CpuDescription &cpu, const GemmSpec &s) {
  const bool swiglu = s.swiglu;
  Blocking blocking;
  blocking.lanes = cpu.lanes;
  // Widening a weight vector (bf16: a zero-extension and a shift; FP8 more)
  // is what the multi-row kernel spends its non-FMA slots on, so each
  // widened vector serves as many rows as the registers allow, and x comes
  // from L1 as the FMAs' memory operand (step() widens the weights first
  // and then loads x row by row: x loaded first stays live across the
  // columns and spills the accumulators). Measured with AVX2 (16 ymm, Zen
  // 1, thread time): 6 x 2 at 89% of the FMA peak, 6 x 1 84%, 4 x 2 72%.
  // With 32 registers there is room for 8 x 2.
  if (cpu.registers >= 32) {
    blocking.rows = 8;
    blocking.columns = swiglu ? 1 : 2;
  } else {
    blocking.rows = 6;
    // Two columns halve the loads of x per FMA: with k = 2048 six rows of
    // x (48 KiB) stream from L2, and 6 x 1 runs at 72% of the FMA peak
    // where 6 x 2 runs at 88% (k = 1024: 84% and 89%). SwiGLU's two
    // weights already give each x two FMAs; FP8's widening needs the
    // registers.
    blocking.columns = swiglu || s.weight.isFP8() ? 1 : 2;
  }
  // One row meets each weight once: the GEMV's many weight rows in flight
  // keep the memory busy (eight streams), and its accumulators fit.
  blocking.singleRowColumns = swiglu && cpu.registers < 32 ? 4 : 8;
  // One register for x, one to spare.
  blocking.registers = cpu.registers - 2;
  return blocking;
}

/// One row group of the micro-kernel: where its x rows are, where its
/// outputs go, and what each output row is scaled by.
struct Rows {
  SmallVector<Value> x, y, scale;
};

class GemmEmitter {
public:
  GemmEmitter(KernelBuilder &kb, const GemmSpec &spec,
              const CpuDescription &cpu)
      : kb(kb), s(spec), cpu(cpu), blocking(chooseBlocking(cpu, spec)) {}

  Value x, y, rowWeights;
  SmallVector<Value> weights, scales;
  /// Set while emitting the 1-row micro-kernel: a GEMV's weights stream
  /// from memory once, so it prefetches and widens bf16 in pairs.
  bool singleRow = false;

  /// Outputs [rows] x [n0, n0 + nr) clamped to columns below `nEnd`.
  void micro(const Rows &rows, Value n0, int64_t nr, Value nEnd);
  /// Every column tile [n0, nEnd) of the row groups in [begin, end), MR
  /// rows at a time and then one; `rowsAt(i)` gives the row of entry i.
  void rowLoop(Value begin, Value end, Value n0, Value nEnd,
               const std::function<Rows(ArrayRef<Value>)> &rowsAt);

private:
  /// Elements of k one step covers: two registers' worth for the 1-row
  /// micro-kernel's bf16 and FP8 weights.
  int64_t stepElements() const {
    return pairsOfBF16() || pairsOfFP8() ? 2 * blocking.lanes
                                         : blocking.lanes;
  }
  /// Only the 1-row micro-kernel, where each widened weight meets a single
  /// row of x, widens two registers of weights at once (bf16 by a shift
  /// and a mask per 32-bit lane; FP8 with twice the integer lanes): the
  /// MR-row one amortizes the widening over its rows and needs its
  /// registers for accumulators.
  bool pairsOfBF16() const {
    return singleRow && s.weight.elementType.isBF16();
  }
  bool pairsOfFP8() const { return singleRow && widenThroughF16(); }
  /// One step's x of `row` from `k0`, as the f32 vectors that meet the
  /// weight vectors of loadWeight (for bf16: its even and odd elements).
  SmallVector<Value> loadX(Value row, Value k0, Value mask, Value xScale);
  /// One step's weights of column `col` from `k0`, as f32 vectors (FP8
  /// codes without their block scale, times 2^-8 when widened through
  /// f16).
  SmallVector<Value> loadWeight(int64_t wi, Value col, Value k0, Value mask);
  /// The two registers of a vector of 2 x lanes.
  SmallVector<Value> splitHalves(Value vector);
  /// The accumulators after one k step at `k0`, the rows of x multiplied by
  /// `xScale` (FP8's block scale) when given.
  SmallVector<Value> step(const Rows &rows, ArrayRef<Value> cols, Value k0,
                          ValueRange acc, Value mask, Value xScale);
  /// Full steps over the `count` elements of k from `kBegin` (a multiple of
  /// the step), then a masked step over `tail` more.
  SmallVector<Value> steps(const Rows &rows, ArrayRef<Value> cols,
                           Value kBegin, int64_t count, int64_t tail,
                           ValueRange acc, Value xScale);
  /// FP8: weight `wi`'s scale of the block of column `col` and k block
  /// `kBlock`, times what the f16 widening left out.
  Value blockScale(int64_t wi, Value col, Value kBlock);
  bool widenThroughF16() const { return s.weight.isFP8() && cpu.hasF16C; }

  KernelBuilder &kb;
  const GemmSpec &s;
  const CpuDescription &cpu;

public:
  const Blocking blocking;
};

SmallVector<Value> GemmEmitter::loadX(Value row, Value k0, Value mask,
                                      Value xScale) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  Value xv = kb.loadF32(x, {row, k0}, stepElements(), b.getF32Type(), mask);
  if (xScale)
    xv = arith::MulFOp::create(b, loc, xv, kb.splat(xScale, stepElements()));
  if (pairsOfFP8())
    return splitHalves(xv);
  if (!pairsOfBF16())
    return {xv};
  // The even and the odd elements, matching the weight halves below.
  auto halves = vector::DeinterleaveOp::create(b, loc, xv);
  return {halves.getRes1(), halves.getRes2()};
}

SmallVector<Value> GemmEmitter::loadWeight(int64_t wi, Value col, Value k0,
                                           Value mask) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  if (pairsOfBF16()) {
    // Two bf16 per 32-bit lane: the even one is the lane shifted left by
    // 16, the odd one the lane with its low half cleared; each is an f32.
    VectorType raw = kb.vectorType(stepElements(), b.getBF16Type());
    Value loaded;
    if (mask) {
      Value zero = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(raw, b.getZeroAttr(b.getBF16Type())));
      loaded = vector::MaskedLoadOp::create(b, loc, raw, weights[wi],
                                            ValueRange{col, k0}, mask, zero);
    } else {
      loaded =
          vector::LoadOp::create(b, loc, raw, weights[wi], ValueRange{col, k0});
    }
    VectorType lanes32 = kb.vectorType(blocking.lanes, b.getI32Type());
    Value words = vector::BitCastOp::create(b, loc, lanes32, loaded);
    auto constant = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(lanes32, b.getI32IntegerAttr(value)));
    };
    Value even = arith::ShLIOp::create(b, loc, words, constant(16));
    Value odd = arith::AndIOp::create(b, loc, words,
                                      constant(static_cast<int32_t>(0xFFFF0000)));
    VectorType f32 = kb.vectorType(blocking.lanes);
    return {arith::BitcastOp::create(b, loc, f32, even),
            arith::BitcastOp::create(b, loc, f32, odd)};
  }
  if (!widenThroughF16())
    return {kb.loadF32(weights[wi], {col, k0}, blocking.lanes,
                       s.weight.elementType, mask)};
  VectorType raw = kb.vectorType(stepElements(), b.getI8Type());
  Value codes;
  if (mask) {
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(raw, b.getI8IntegerAttr(0)));
    codes = vector::MaskedLoadOp::create(b, loc, raw, weights[wi],
                                         ValueRange{col, k0}, mask, zero);
  } else {
    codes = vector::LoadOp::create(b, loc, raw, weights[wi],
                                   ValueRange{col, k0});
  }
  Value decoded = decodeFP8ViaF16(b, loc, codes, s.weight.elementType);
  if (pairsOfFP8())
    return splitHalves(decoded);
  return {decoded};
}

SmallVector<Value> GemmEmitter::splitHalves(Value vector) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  const int64_t lanes = blocking.lanes;
  SmallVector<Value> halves;
  for (int64_t offset : {int64_t(0), lanes})
    halves.push_back(vector::ExtractStridedSliceOp::create(
        b, loc, vector, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{lanes},
        ArrayRef<int64_t>{1}));
  return halves;
}

Value GemmEmitter::blockScale(int64_t wi, Value col, Value kBlock) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  auto [bn, bk] = *s.weight.block;
  (void)bk;
  Value scale = memref::LoadOp::create(
      b, loc, scales[wi], ValueRange{kb.div(col, kb.index(bn)), kBlock});
  if (widenThroughF16())
    scale = arith::MulFOp::create(b, loc, scale,
                                  kb.f32(kFP8ViaF16Correction));
  return scale;
}

SmallVector<Value> GemmEmitter::step(const Rows &rows, ArrayRef<Value> cols,
                                     Value k0, ValueRange acc, Value mask,
                                     Value xScale) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  const int64_t mr = rows.x.size(), nr = cols.size(), nw = weights.size();
  SmallVector<Value> next(acc.begin(), acc.end());
  auto loadWeights = [&](int64_t wi, int64_t j) {
    if (singleRow && !mask) {
      // The micro-kernel's next columns, one tile ahead in memory.
      Value ahead = kb.min(kb.add(cols[j], kb.index(nr)), kb.index(s.n - 1));
      memref::PrefetchOp::create(b, loc, weights[wi], ValueRange{ahead, k0},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    }
    return loadWeight(wi, cols[j], k0, mask);
  };
  auto fmas = [&](int64_t i, ArrayRef<Value> xs, int64_t j, int64_t wi,
                  ArrayRef<Value> w) {
    int64_t slot = (i * nr + j) * nw + wi;
    for (auto [xPart, wPart] : llvm::zip_equal(xs, w))
      next[slot] = kb.fma(xPart, wPart, next[slot]);
  };
  if (mr == 1) {
    // One row: its x once, then each column's weights used and dropped
    // (the 1-row kernel's many columns of widened pairs would not fit).
    SmallVector<Value> xs = loadX(rows.x[0], k0, mask, xScale);
    for (int64_t wi = 0; wi < nw; ++wi)
      for (int64_t j = 0; j < nr; ++j)
        fmas(0, xs, j, wi, loadWeights(wi, j));
    return next;
  }
  // Several rows: the weights first, then row by row its x and FMAs, so
  // that x is live for one row's FMAs only (loaded before the weights,
  // LLVM keeps every row's x in registers across the columns and spills
  // the accumulators).
  SmallVector<SmallVector<Value>> w(nr * nw);
  for (int64_t wi = 0; wi < nw; ++wi)
    for (int64_t j = 0; j < nr; ++j)
      w[j * nw + wi] = loadWeights(wi, j);
  for (int64_t i = 0; i < mr; ++i) {
    SmallVector<Value> xs = loadX(rows.x[i], k0, mask, xScale);
    for (int64_t j = 0; j < nr; ++j)
      for (int64_t wi = 0; wi < nw; ++wi)
        fmas(i, xs, j, wi, w[j * nw + wi]);
  }
  return next;
}

SmallVector<Value> GemmEmitter::steps(const Rows &rows, ArrayRef<Value> cols,
                                      Value kBegin, int64_t count,
                                      int64_t tail, ValueRange acc,
                                      Value xScale) {
  const int64_t lanes = stepElements();
  SmallVector<Value> result(acc.begin(), acc.end());
  if (count > 0)
    result = kb.forLoop(kBegin, kb.add(kBegin, kb.index(count)),
                        kb.index(lanes), result,
                        [&](Value k0, ValueRange carried) {
                          return step(rows, cols, k0, carried, Value(),
                                      xScale);
                        });
  if (tail > 0)
    result = step(rows, cols, kb.add(kBegin, kb.index(count)), result,
                  kb.mask(lanes, tail), xScale);
  return result;
}

void GemmEmitter::micro(const Rows &rows, Value n0, int64_t nr, Value nEnd) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  const int64_t mr = rows.x.size(), nw = weights.size(),
                lanes = blocking.lanes;
  // Columns past the end load the last column again; their results are
  // dropped at the store.
  SmallVector<Value> cols;
  for (int64_t j = 0; j < nr; ++j)
    cols.push_back(kb.min(kb.add(n0, kb.index(j)), kb.index(s.n - 1)));

  SmallVector<Value> acc(mr * nr * nw, kb.zeros(lanes));
  if (!s.weight.block) {
    const int64_t kStep = stepElements();
    acc = steps(rows, cols, kb.index(0), s.k / kStep * kStep, s.k % kStep,
                acc, Value());
  } else {
    // Block by block of k, each block's scale applied to x. The scale is
    // per weight; SwiGLU's two weights have their own, so their rows of x
    // are scaled apart.
    const int64_t bk = (*s.weight.block)[1], fullBlocks = s.k / bk,
                  rest = s.k - fullBlocks * bk;
    auto block = [&](Value kBlock, int64_t length, ValueRange carried) {
      SmallVector<Value> out(carried.begin(), carried.end());
      for (int64_t wi = 0; wi < nw; ++wi) {
        Value scale = blockScale(wi, cols[0], kBlock);
        GemmEmitter single(*this);
        single.weights = {weights[wi]};
        single.scales = {scales[wi]};
        SmallVector<Value> part;
        for (int64_t slot = wi; slot < static_cast<int64_t>(out.size());
             slot += nw)
          part.push_back(out[slot]);
        const int64_t kStep = stepElements();
        part = single.steps(rows, cols, kb.mul(kBlock, kb.index(bk)),
                            length / kStep * kStep, length % kStep, part,
                            scale);
        for (int64_t i = 0; wi + i * nw < static_cast<int64_t>(out.size());
             ++i)
          out[wi + i * nw] = part[i];
      }
      return out;
    };
    if (fullBlocks > 0)
      acc = kb.forLoop(kb.index(0), kb.index(fullBlocks), kb.index(1), acc,
                       [&](Value kBlock, ValueRange carried) {
                         return block(kBlock, bk, carried);
                       });
    if (rest > 0)
      acc = block(kb.index(fullBlocks), rest, acc);
  }

  SmallVector<Value> sums = kb.reduceAddEach(acc);
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j) {
      int64_t slot = (i * nr + j) * nw;
      Value value = sums[slot];
      if (s.swiglu)
        value = arith::MulFOp::create(b, loc, kb.silu(value), sums[slot + 1]);
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
  const int64_t mr = blocking.rows;
  Value fullEnd = kb.add(begin, kb.mul(kb.div(kb.sub(end, begin), kb.index(mr)),
                                       kb.index(mr)));
  kb.forLoop(begin, fullEnd, kb.index(mr), [&](Value i) {
    SmallVector<Value> entries;
    for (int64_t r = 0; r < mr; ++r)
      entries.push_back(kb.add(i, kb.index(r)));
    Rows rows = rowsAt(entries);
    kb.forLoop(n0, nEnd, kb.index(blocking.columns), [&](Value nb) {
      micro(rows, nb, blocking.columns, nEnd);
    });
  });
  // 2 <= r < MR rows left: one r-row micro-kernel, more columns at a time;
  // one row left: the 1-row kernel.
  Value left = kb.sub(end, fullEnd);
  auto leftIs = [&](int64_t r) {
    return arith::CmpIOp::create(kb.builder(), kb.getLoc(),
                                 arith::CmpIPredicate::eq, left, kb.index(r));
  };
  for (int64_t r = 2; r < mr; ++r) {
    kb.ifThen(leftIs(r), [&] {
      SmallVector<Value> entries;
      for (int64_t i = 0; i < r; ++i)
        entries.push_back(kb.add(fullEnd, kb.index(i)));
      Rows rows = rowsAt(entries);
      const int64_t nr = blocking.columnsFor(r, weights.size());
      kb.forLoop(n0, nEnd, kb.index(nr),
                 [&](Value nb) { micro(rows, nb, nr, nEnd); });
    });
  }
  kb.ifThen(leftIs(1), [&] {
    Rows rows = rowsAt({fullEnd});
    singleRow = true;
    kb.forLoop(n0, nEnd, kb.index(blocking.singleRowColumns), [&](Value nb) {
      micro(rows, nb, blocking.singleRowColumns, nEnd);
    });
    singleRow = false;
  });
}

} // namespace

FailureOr<func::FuncOp> lathe::cpu::buildGemm(OpBuilder &outer, Location loc,
                                              StringRef name,
                                              const GemmSpec &s,
                                              const CpuDescription &cpu) {
  // A micro-kernel's columns share one block row (k steps never straddle
  // a block: each block ends in a masked step if it must).
  if (s.weight.block && (*s.weight.block)[0] % kColumnsPerWorkgroup != 0)
    return emitError(loc) << "gemm: FP8 blocks of " << (*s.weight.block)[0]
                          << " rows do not align with the CPU kernel's "
                          << kColumnsPerWorkgroup << "-column tiles";
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
                : std::array<AffineExpr, 3>{
                      columnTiles,
                      s0.ceilDiv(chooseBlocking(cpu, s).rowsPerWorkgroup()),
                      one};
  KernelBuilder kb(outer, loc, name, "gemm", kernelInterface(s), grid);
  OpBuilder &b = kb.builder();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t dyn = ShapedType::kDynamic;
  Type storage = KernelBuilder::storageType(s.weight);
  SmallVector<int64_t> weightShape = {s.n, s.k}, scaleShape;
  if (s.weight.block)
    scaleShape = {(s.n + (*s.weight.block)[0] - 1) / (*s.weight.block)[0],
                  (s.k + (*s.weight.block)[1] - 1) / (*s.weight.block)[1]};

  GemmEmitter gemm(kb, s, cpu);
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
    const int64_t rowsPerWorkgroup = gemm.blocking.rowsPerWorkgroup();
    Value m0 = kb.mul(kb.workgroupId(1), kb.index(rowsPerWorkgroup));
    Value mEnd = kb.min(kb.add(m0, kb.index(rowsPerWorkgroup)), xRows);
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

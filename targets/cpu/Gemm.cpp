//===- Gemm.cpp - y = x · Wᵀ on the CPU, and the MoE experts' GEMMs -------===//
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
// weights from a table. Scattered rows (the experts' down projection, added
// into token order) give a workgroup its column tile of every token's row:
// it sets the tile to init's (or 0), then walks the experts in order and
// adds each pair's weighted product, so no two workgroups write one element
// and a token's sum does not depend on the thread count.
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

/// Output columns of one workgroup.
int64_t columnTile(const GemmSpec &s) {
  return std::min(kColumnsPerWorkgroup, s.n);
}

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

  /// Buffer 0.
  Value x;

  /// The workgroup's tile [n0, nEnd) of y for each way of taking rows,
  /// binding the buffers after x.
  void directRows(Value n0, Value nEnd);
  void groupedRows(Value n0, Value nEnd);
  void scatteredRows(Value n0, Value nEnd);

private:
  Value y, rowWeights;
  SmallVector<Value> weights, scales;
  /// Set while emitting the 1-row micro-kernel: a GEMV's weights stream
  /// from memory once, so it prefetches and widens bf16 in pairs.
  bool singleRow = false;

  /// Binds the weights (and their scales) from buffer 1 on: `expert`'s
  /// entries of the tables for grouped rows.
  void bindWeights(Value expert);
  /// Buffer 0 (x) and the weights'.
  int64_t leadingBuffers() const;
  /// Outputs [rows] x [n0, n0 + nr) clamped to columns below `nEnd`.
  void micro(const Rows &rows, Value n0, int64_t nr, Value nEnd);
  /// Every column tile [n0, nEnd) of the row groups in [begin, end), MR
  /// rows at a time and then one; `rowsAt(i)` gives the row of entry i.
  void rowLoop(Value begin, Value end, Value n0, Value nEnd,
               const std::function<Rows(ArrayRef<Value>)> &rowsAt);
  /// The pairs of `expert`'s segment of `order`, with its weights bound.
  void expertRows(Value expert, Value offsets, Value order, Value n0,
                  Value nEnd);
  /// Columns [n0, nEnd) of rows [0, count) of y set to init's, or to 0.
  void initTile(Value init, Value count, Value n0, Value nEnd);
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
        // Row by row, so that two rows of one token (a token that picked
        // an expert twice, which top-k never does) would both count.
        Value out = value;
        if (s.scatterAdd)
          out = arith::AddFOp::create(
              b, loc,
              memref::LoadOp::create(b, loc, y, ValueRange{rows.y[i], col}),
              value);
        memref::StoreOp::create(b, loc, out, y, ValueRange{rows.y[i], col});
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

void GemmEmitter::bindWeights(Value expert) {
  Type storage = KernelBuilder::storageType(s.weight);
  SmallVector<int64_t> weightShape = {s.n, s.k}, scaleShape;
  if (s.weight.block)
    scaleShape = {(s.n + (*s.weight.block)[0] - 1) / (*s.weight.block)[0],
                  (s.k + (*s.weight.block)[1] - 1) / (*s.weight.block)[1]};
  auto bind = [&](int64_t index, ArrayRef<int64_t> shape, Type type) {
    return expert ? kb.tableEntry(index, expert, shape, type)
                  : kb.binding(index, shape, type);
  };
  weights.clear();
  scales.clear();
  int64_t next = 1;
  for (int64_t wi = 0; wi < (s.swiglu ? 2 : 1); ++wi) {
    weights.push_back(bind(next++, weightShape, storage));
    if (s.weight.block)
      scales.push_back(bind(next++, scaleShape, kb.builder().getF32Type()));
  }
}

int64_t GemmEmitter::leadingBuffers() const {
  return 1 + (s.swiglu ? 2 : 1) * (s.weight.block ? 2 : 1);
}

void GemmEmitter::directRows(Value n0, Value nEnd) {
  Value xRows = kb.scalar(0);
  bindWeights(Value());
  y = kb.binding(leadingBuffers(), {ShapedType::kDynamic, s.n},
                 kb.builder().getF32Type(), xRows);
  const int64_t rowsPerWorkgroup = blocking.rowsPerWorkgroup();
  Value m0 = kb.mul(kb.workgroupId(1), kb.index(rowsPerWorkgroup));
  Value mEnd = kb.min(kb.add(m0, kb.index(rowsPerWorkgroup)), xRows);
  rowLoop(m0, mEnd, n0, nEnd, [](ArrayRef<Value> entries) {
    Rows rows;
    rows.x.assign(entries.begin(), entries.end());
    rows.y = rows.x;
    return rows;
  });
}

void GemmEmitter::expertRows(Value expert, Value offsets, Value order, Value n0,
                             Value nEnd) {
  OpBuilder &b = kb.builder();
  bindWeights(expert);
  Value begin = kb.loadIndex(offsets, {expert});
  Value end = kb.loadIndex(offsets, {kb.add(expert, kb.index(1))});
  auto rowOf = [&](Value pair, int64_t div) {
    return div == 1 ? pair : kb.div(pair, kb.index(div));
  };
  rowLoop(begin, end, n0, nEnd, [&](ArrayRef<Value> entries) {
    Rows rows;
    for (Value entry : entries) {
      Value pair = kb.loadIndex(order, {entry});
      rows.x.push_back(rowOf(pair, s.xRowDiv));
      rows.y.push_back(rowOf(pair, s.scatterAdd ? s.yRowDiv : 1));
      if (s.rowScale)
        rows.scale.push_back(
            memref::LoadOp::create(b, kb.getLoc(), rowWeights, pair));
    }
    return rows;
  });
}

void GemmEmitter::groupedRows(Value n0, Value nEnd) {
  Type f32 = kb.builder().getF32Type(), i32 = kb.builder().getI32Type();
  const int64_t dyn = ShapedType::kDynamic;
  Value pairs = kb.scalar(1);
  int64_t next = leadingBuffers();
  Value offsets = kb.binding(next++, {s.experts + 1}, i32);
  Value order = kb.binding(next++, {dyn}, i32, pairs);
  if (s.rowScale)
    rowWeights = kb.binding(next++, {dyn}, f32, pairs);
  y = kb.binding(next, {dyn, s.n}, f32, pairs);
  expertRows(kb.workgroupId(1), offsets, order, n0, nEnd);
}

void GemmEmitter::initTile(Value init, Value count, Value n0, Value nEnd) {
  const int64_t lanes = blocking.lanes;
  Type f32 = kb.builder().getF32Type();
  kb.forLoop(kb.index(0), count, kb.index(1), [&](Value row) {
    kb.forLoop(n0, nEnd, kb.index(lanes), [&](Value col) {
      Value mask = kb.mask(lanes, kb.sub(nEnd, col));
      Value values = init ? kb.loadF32(init, {row, col}, lanes, f32, mask)
                          : kb.zeros(lanes);
      kb.storeF32(values, y, {row, col}, mask);
    });
  });
}

void GemmEmitter::scatteredRows(Value n0, Value nEnd) {
  // The workgroup owns its columns of every token's row and adds the
  // experts' terms in expert order: no other workgroup writes them, and
  // the sums do not depend on the thread count.
  Type f32 = kb.builder().getF32Type(), i32 = kb.builder().getI32Type();
  const int64_t dyn = ShapedType::kDynamic;
  Value pairs = kb.scalar(1);
  Value tokens = kb.div(pairs, kb.index(s.yRowDiv));
  int64_t next = leadingBuffers();
  Value offsets = kb.binding(next++, {s.experts + 1}, i32);
  Value order = kb.binding(next++, {dyn}, i32, pairs);
  rowWeights = kb.binding(next++, {dyn}, f32, pairs);
  Value init = s.init ? kb.binding(next++, {dyn, s.n}, f32, tokens) : Value();
  y = kb.binding(next, {dyn, s.n}, f32, tokens);
  initTile(init, tokens, n0, nEnd);
  kb.forLoop(0, s.experts, 1, [&](Value expert) {
    expertRows(expert, offsets, order, n0, nEnd);
  });
}

/// Column tiles, and row blocks (direct rows) or experts (grouped rows);
/// scattered rows take every expert in one workgroup.
std::array<AffineExpr, 3> gridOf(const GemmSpec &s, const CpuDescription &cpu,
                                 MLIRContext *context) {
  const int64_t nt = columnTile(s);
  AffineExpr columnTiles = getAffineConstantExpr((s.n + nt - 1) / nt, context);
  AffineExpr one = getAffineConstantExpr(1, context);
  if (s.scatterAdd)
    return {columnTiles, one, one};
  if (s.grouped)
    return {columnTiles, getAffineConstantExpr(s.experts, context), one};
  return {columnTiles,
          getAffineSymbolExpr(0, context)
              .ceilDiv(chooseBlocking(cpu, s).rowsPerWorkgroup()),
          one};
}

LogicalResult checkSpec(Location loc, const GemmSpec &s) {
  // A micro-kernel's columns share one block row (k steps never straddle
  // a block: each block ends in a masked step if it must).
  if (s.weight.block && (*s.weight.block)[0] % kColumnsPerWorkgroup != 0)
    return emitError(loc) << "gemm: FP8 blocks of " << (*s.weight.block)[0]
                          << " rows do not align with the CPU kernel's "
                          << kColumnsPerWorkgroup << "-column tiles";
  if (s.scatterAdd && !(s.grouped && s.rowScale))
    return emitError(loc) << "gemm: scatterAdd needs grouped rows with "
                             "row weights";
  return success();
}

} // namespace

FailureOr<func::FuncOp> lathe::cpu::buildGemm(OpBuilder &outer, Location loc,
                                              StringRef name, const GemmSpec &s,
                                              const CpuDescription &cpu) {
  if (failed(checkSpec(loc, s)))
    return failure();
  KernelBuilder kb(outer, loc, name, kernelFamily(s), kernelInterface(s),
                   gridOf(s, cpu, outer.getContext()));
  GemmEmitter gemm(kb, s, cpu);
  gemm.x = kb.binding(0, {ShapedType::kDynamic, s.k}, kb.builder().getF32Type(),
                      kb.scalar(0));
  const int64_t nt = columnTile(s);
  Value n0 = kb.mul(kb.workgroupId(0), kb.index(nt));
  Value nEnd = kb.min(kb.add(n0, kb.index(nt)), kb.index(s.n));
  if (s.scatterAdd)
    gemm.scatteredRows(n0, nEnd);
  else if (s.grouped)
    gemm.groupedRows(n0, nEnd);
  else
    gemm.directRows(n0, nEnd);
  return kb.getFunction();
}

//===- Attention.cpp - MLA attention over the latent cache ----------------===//
//
// One workgroup per (group of up to 8 heads, token). MLA's cache holds one
// latent row per position, shared by every head, so a workgroup takes
// several heads at once and reads each cache row once for all of them
// (FlashMLA does the same across a warpgroup's 64 heads); a per-head
// workgroup would read the cache once per head.
//
// The query is absorbed into latent space first (q_lat = q_nope · W_UK[h],
// with the softmax scale folded in); scores are dot products with whole
// cache rows, for a block of B positions at a time (B = one register of
// f32 lanes), B independent accumulators per head so that the FMAs do not
// wait on each other; the block's scores form one vector, for an online
// softmax (running max and sum, the latent output rescaled once per
// block). The latent output o_lat = softmax · c_kv accumulates, one
// register of the rank at a time, the block's B cache rows weighted by each
// head's probabilities; W_UV[h] projects it last. Positions past the
// token's own are masked to -inf in the last block.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Generators.h"
#include "targets/cpu/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

constexpr int64_t kMaxHeadsPerWorkgroup = 8;

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// The most heads up to kMaxHeadsPerWorkgroup that divide `heads`.
int64_t headsPerWorkgroup(int64_t heads) {
  for (int64_t group = std::min(heads, kMaxHeadsPerWorkgroup); group > 1;
       --group)
    if (heads % group == 0)
      return group;
  return 1;
}

class AttentionEmitter {
public:
  AttentionEmitter(KernelBuilder &kb, const MLAAttentionSpec &s,
                   const CpuDescription &cpu)
      : kb(kb), b(kb.builder()), loc(kb.getLoc()), s(s), lanes(cpu.lanes),
        group(headsPerWorkgroup(s.heads)),
        rankPad(roundUp(s.rank, cpu.lanes)),
        ropePad(roundUp(s.rope, cpu.lanes)) {}

  void emit();

private:
  /// `lanes` weights of row `row` of kv_b_proj from column `col`, as f32.
  Value weights(Value row, int64_t col, Value mask);
  /// Calls `fn(c, mask)` for the register-sized chunks of `length`; the
  /// last chunk's mask covers what is left (null when full).
  void forChunks(int64_t length, const std::function<void(int64_t, Value)> &fn);
  Value scratch(ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, loc,
                                    MemRefType::get(shape, b.getF32Type()));
  }
  Value load(Value memref, ValueRange at) {
    return memref::LoadOp::create(b, loc, memref, at);
  }
  void store(Value value, Value memref, ValueRange at) {
    memref::StoreOp::create(b, loc, value, memref, at);
  }

  /// q_lat and q_pe of each head of the group, scaled.
  void absorbQueries();
  /// Scores of positions [s0, s0 + B) for head `hg`, masked past `count`,
  /// as one vector.
  Value blockScores(Value hg, Value s0);
  /// o_lat of every head of the group += the block's rows, weighted.
  void accumulateBlock();
  /// out = o_lat / sum · W_UV[h]ᵀ for each head of the group.
  void project();

  KernelBuilder &kb;
  OpBuilder &b;
  Location loc;
  const MLAAttentionSpec &s;
  const int64_t lanes, group, rankPad, ropePad;

  Value q, kvB, kvBScale, cache, out;
  Value token, row, count, firstHead;
  /// Scratch, padded to whole registers (padding lanes stay 0): per head
  /// of the group its q_lat, q_pe, o_lat, block probabilities, and the
  /// softmax's running max, sum and last correction.
  Value qLat, qPe, oLat, probs, runningMax, runningSum, correction;
  /// The block's cache rows (clamped to the last valid one).
  SmallVector<Value> blockRows;
};

Value AttentionEmitter::weights(Value weightRow, int64_t col, Value mask) {
  Value w = kb.loadF32(kvB, {weightRow, kb.index(col)}, lanes,
                       s.kvB.elementType, mask);
  if (!s.kvB.block)
    return w;
  auto [bn, bk] = *s.kvB.block;
  Value scale = load(kvBScale, {kb.div(weightRow, kb.index(bn)),
                                kb.index(col / bk)});
  return arith::MulFOp::create(b, loc, w, kb.splat(scale, lanes));
}

void AttentionEmitter::forChunks(
    int64_t length, const std::function<void(int64_t, Value)> &fn) {
  for (int64_t c = 0; c < length; c += lanes) {
    int64_t n = std::min(lanes, length - c);
    fn(c, n < lanes ? kb.mask(lanes, n) : Value());
  }
}

void AttentionEmitter::absorbQueries() {
  const int64_t qkDim = s.nope + s.rope;
  Value scale = kb.splat(kb.f32(s.scale), lanes);
  kb.forLoop(0, group, 1, [&](Value hg) {
    Value head = kb.add(firstHead, hg);
    Value qBase = kb.mul(head, kb.index(qkDim));
    Value ukBase = kb.mul(head, kb.index(s.nope + s.v));
    // q_lat = scale * q_nope · W_UK[h], four registers of the rank at a
    // time: W_UK's rows are contiguous along the rank.
    for (int64_t c0 = 0; c0 < s.rank; c0 += 4 * lanes) {
      SmallVector<int64_t> chunks;
      SmallVector<Value> masks;
      for (int64_t c = c0; c < std::min(s.rank, c0 + 4 * lanes); c += lanes) {
        chunks.push_back(c);
        int64_t n = std::min(lanes, s.rank - c);
        masks.push_back(n < lanes ? kb.mask(lanes, n) : Value());
      }
      SmallVector<Value> init(chunks.size(), kb.zeros(lanes));
      SmallVector<Value> acc = kb.forLoop(
          kb.index(0), kb.index(s.nope), kb.index(1), init,
          [&](Value n, ValueRange carried) {
            Value qv = kb.splat(load(q, {token, kb.add(qBase, n)}), lanes);
            SmallVector<Value> next;
            for (auto [i, c] : llvm::enumerate(chunks))
              next.push_back(kb.fma(
                  qv, weights(kb.add(ukBase, n), c, masks[i]), carried[i]));
            return next;
          });
      for (auto [i, c] : llvm::enumerate(chunks))
        kb.storeF32(arith::MulFOp::create(b, loc, acc[i], scale), qLat,
                    {hg, kb.index(c)});
    }
    forChunks(s.rope, [&](int64_t c, Value mask) {
      Value v = kb.loadF32(q, {token, kb.add(qBase, kb.index(s.nope + c))},
                           lanes, b.getF32Type(), mask);
      kb.storeF32(arith::MulFOp::create(b, loc, v, scale), qPe,
                  {hg, kb.index(c)});
    });
  });
}

Value AttentionEmitter::blockScores(Value hg, Value s0) {
  Type f32 = b.getF32Type();
  // B independent dot products, one register of the rank at a time.
  auto dots = [&](Value queries, int64_t offset, int64_t length,
                  ValueRange init) {
    SmallVector<Value> acc(init.begin(), init.end());
    const int64_t full = length / lanes * lanes;
    auto chunk = [&](Value c, Value mask, ValueRange carried) {
      Value qv = kb.loadF32(queries, {hg, c}, lanes, f32);
      SmallVector<Value> next;
      for (auto [j, rowAt] : llvm::enumerate(blockRows))
        next.push_back(kb.fma(
            qv,
            kb.loadF32(cache, {row, rowAt, kb.add(c, kb.index(offset))}, lanes,
                       f32, mask),
            carried[j]));
      return next;
    };
    if (full > 0)
      acc = kb.forLoop(kb.index(0), kb.index(full), kb.index(lanes), acc,
                       [&](Value c, ValueRange carried) {
                         return chunk(c, Value(), carried);
                       });
    if (length > full)
      acc = chunk(kb.index(full), kb.mask(lanes, length - full), acc);
    return acc;
  };
  SmallVector<Value> acc(blockRows.size(), kb.zeros(lanes));
  acc = dots(qLat, 0, s.rank, acc);
  acc = dots(qPe, s.rank, s.rope, acc);
  SmallVector<Value> scores;
  for (Value a : acc)
    scores.push_back(kb.reduceAdd(a));
  Value block =
      vector::FromElementsOp::create(b, loc, kb.vectorType(lanes), scores);
  // Positions s0 + j >= count do not exist yet.
  Value valid = kb.mask(lanes, kb.sub(count, s0));
  Value negInf = kb.splat(kb.f32(-std::numeric_limits<float>::infinity()),
                          lanes);
  return arith::SelectOp::create(b, loc, valid, block, negInf);
}

void AttentionEmitter::accumulateBlock() {
  Type f32 = b.getF32Type();
  // Per register of the rank: the block's rows once, then each head's
  // rescaled o_lat plus its weighted rows (the heads' chains independent).
  auto chunk = [&](Value c, Value mask) {
    SmallVector<Value> rows;
    for (Value rowAt : blockRows)
      rows.push_back(
          kb.loadF32(cache, {row, rowAt, c}, lanes, f32, mask));
    for (int64_t h = 0; h < group; ++h) {
      Value hg = kb.index(h);
      Value o = arith::MulFOp::create(
          b, loc, kb.loadF32(oLat, {hg, c}, lanes, f32),
          kb.splat(load(correction, {hg}), lanes));
      for (auto [j, rowValue] : llvm::enumerate(rows))
        o = kb.fma(kb.splat(load(probs, {hg, kb.index(j)}), lanes), rowValue,
                   o);
      kb.storeF32(o, oLat, {hg, c});
    }
  };
  const int64_t full = s.rank / lanes * lanes;
  if (full > 0)
    kb.forLoop(kb.index(0), kb.index(full), kb.index(lanes),
               [&](Value c) { chunk(c, Value()); });
  if (s.rank > full)
    chunk(kb.index(full), kb.mask(lanes, s.rank - full));
}

void AttentionEmitter::project() {
  Type f32 = b.getF32Type();
  constexpr int64_t rowsPerStep = 8;
  kb.forLoop(0, group, 1, [&](Value hg) {
    Value head = kb.add(firstHead, hg);
    Value uvBase =
        kb.add(kb.mul(head, kb.index(s.nope + s.v)), kb.index(s.nope));
    Value inverse = arith::DivFOp::create(b, loc, kb.f32(1.0),
                                          load(runningSum, {hg}));
    // 8 rows of W_UV at once, each a dot product with o_lat.
    kb.forLoop(0, s.v, rowsPerStep, [&](Value i0) {
      SmallVector<Value> wRows;
      for (int64_t r = 0; r < rowsPerStep; ++r)
        wRows.push_back(kb.add(uvBase, kb.min(kb.add(i0, kb.index(r)),
                                              kb.index(s.v - 1))));
      SmallVector<Value> acc(rowsPerStep, kb.zeros(lanes));
      forChunks(s.rank, [&](int64_t c, Value mask) {
        Value o = kb.loadF32(oLat, {hg, kb.index(c)}, lanes, f32);
        for (int64_t r = 0; r < rowsPerStep; ++r)
          acc[r] = kb.fma(o, weights(wRows[r], c, mask), acc[r]);
      });
      for (int64_t r = 0; r < rowsPerStep; ++r) {
        Value i = kb.add(i0, kb.index(r));
        Value value =
            arith::MulFOp::create(b, loc, kb.reduceAdd(acc[r]), inverse);
        kb.ifThen(kb.lt(i, kb.index(s.v)), [&] {
          store(value, out,
                {token, kb.add(kb.mul(head, kb.index(s.v)), i)});
        });
      }
    });
  });
}

void AttentionEmitter::emit() {
  Type f32 = b.getF32Type();
  const int64_t dyn = ShapedType::kDynamic;
  const int64_t qkDim = s.nope + s.rope, kvBRows = s.heads * (s.nope + s.v),
                width = s.rank + s.rope;
  Value m = kb.scalar(0), tokens = kb.scalar(1);
  int64_t next = 0;
  q = kb.binding(next++, {dyn, s.heads * qkDim}, f32, m);
  kvB = kb.binding(next++, {kvBRows, s.rank}, KernelBuilder::storageType(s.kvB));
  if (s.kvB.block)
    kvBScale = kb.binding(
        next++,
        {roundUp(kvBRows, (*s.kvB.block)[0]) / (*s.kvB.block)[0],
         roundUp(s.rank, (*s.kvB.block)[1]) / (*s.kvB.block)[1]},
        f32);
  Value positions = kb.binding(next++, {dyn}, b.getI32Type(), m);
  cache = kb.binding(next++, {s.maxBatch, s.maxSeqLen, width}, f32);
  out = kb.binding(next, {dyn, s.heads * s.v}, f32, m);

  firstHead = kb.mul(kb.workgroupId(0), kb.index(group));
  token = kb.workgroupId(1);
  row = kb.div(token, tokens);
  count = kb.add(kb.loadIndex(positions, {token}), kb.index(1));

  qLat = scratch({group, rankPad});
  qPe = scratch({group, ropePad});
  oLat = scratch({group, rankPad});
  probs = scratch({group, lanes});
  runningMax = scratch({group});
  runningSum = scratch({group});
  correction = scratch({group});
  Value negInf = kb.f32(-std::numeric_limits<float>::infinity());
  kb.forLoop(0, group, 1, [&](Value hg) {
    forChunks(rankPad, [&](int64_t c, Value) {
      kb.storeF32(kb.zeros(lanes), qLat, {hg, kb.index(c)});
      kb.storeF32(kb.zeros(lanes), oLat, {hg, kb.index(c)});
    });
    forChunks(ropePad, [&](int64_t c, Value) {
      kb.storeF32(kb.zeros(lanes), qPe, {hg, kb.index(c)});
    });
    store(negInf, runningMax, {hg});
    store(kb.f32(0.0), runningSum, {hg});
  });
  absorbQueries();

  // Online softmax over positions [0, count) of this row, B at a time.
  Value last = kb.sub(count, kb.index(1));
  kb.forLoop(kb.index(0), count, kb.index(lanes), [&](Value s0) {
    // Positions past the end read the last valid row and score -inf.
    blockRows.clear();
    for (int64_t j = 0; j < lanes; ++j)
      blockRows.push_back(kb.min(kb.add(s0, kb.index(j)), last));
    kb.forLoop(0, group, 1, [&](Value hg) {
      Value scores = blockScores(hg, s0);
      Value previous = load(runningMax, {hg});
      Value newMax =
          arith::MaxNumFOp::create(b, loc, previous, kb.reduceMax(scores));
      Value factor = kb.exp(arith::SubFOp::create(b, loc, previous, newMax));
      Value p = kb.exp(
          arith::SubFOp::create(b, loc, scores, kb.splat(newMax, lanes)));
      Value sum = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, load(runningSum, {hg}), factor),
          kb.reduceAdd(p));
      kb.storeF32(p, probs, {hg, kb.index(0)});
      store(factor, correction, {hg});
      store(newMax, runningMax, {hg});
      store(sum, runningSum, {hg});
    });
    accumulateBlock();
  });
  project();
}

} // namespace

FailureOr<func::FuncOp>
lathe::cpu::buildMLAAttention(OpBuilder &outer, Location loc, StringRef name,
                              const MLAAttentionSpec &s,
                              const CpuDescription &cpu) {
  if (s.kvB.block && (*s.kvB.block)[1] % cpu.lanes != 0)
    return emitError(loc) << "mla_attention: FP8 blocks of "
                          << (*s.kvB.block)[1]
                          << " columns do not align with the CPU's vectors";
  MLIRContext *context = outer.getContext();
  KernelBuilder kb(outer, loc, name, "mla_attention", kernelInterface(s),
                   {getAffineConstantExpr(s.heads / headsPerWorkgroup(s.heads),
                                          context),
                    getAffineSymbolExpr(0, context),
                    getAffineConstantExpr(1, context)});
  AttentionEmitter(kb, s, cpu).emit();
  return kb.getFunction();
}

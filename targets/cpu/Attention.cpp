//===- Attention.cpp - MLA attention over the latent cache ----------------===//
//
// One workgroup per (head, token). The cache holds only c_kv and k_pe, so
// the query is absorbed into latent space first (q_lat = q_nope · W_UK[h],
// with the softmax scale folded in), scores are dot products with whole
// cache rows, and the latent output o_lat = softmax · c_kv is projected by
// W_UV[h] last. The softmax is online over blocks of 16 positions (running
// max and sum, the accumulator rescaled once per block), so no score buffer
// of the sequence's length is needed.
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

constexpr int64_t kPositionsPerBlock = 16;

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// Calls `fn(c, mask)` for the 16-lane chunks c = 0, 16, ... of `length`
/// elements; the last chunk's mask covers what is left (null when full).
void forChunks(KernelBuilder &kb, int64_t length,
               const std::function<void(int64_t, Value)> &fn) {
  for (int64_t c = 0; c < length; c += kVectorWidth) {
    int64_t count = std::min(kVectorWidth, length - c);
    fn(c, count < kVectorWidth ? kb.mask(kVectorWidth, count) : Value());
  }
}

struct AttentionEmitter {
  KernelBuilder &kb;
  const MLAAttentionSpec &s;
  Value kvB, kvBScale, cache;

  /// 16 weights of row `row` of kv_b_proj from column `col`, as f32.
  Value weights(Value row, int64_t col, Value mask) {
    OpBuilder &b = kb.builder();
    Value w = kb.loadF32(kvB, {row, kb.index(col)}, kVectorWidth,
                         s.kvB.elementType, mask);
    if (!s.kvB.block)
      return w;
    auto [bn, bk] = *s.kvB.block;
    Value scale = memref::LoadOp::create(
        b, kb.getLoc(), kvBScale,
        ValueRange{kb.div(row, kb.index(bn)), kb.index(col / bk)});
    return arith::MulFOp::create(b, kb.getLoc(), w, kb.splat(scale, kVectorWidth));
  }
};

} // namespace

FailureOr<func::FuncOp>
lathe::cpu::buildMLAAttention(OpBuilder &outer, Location loc, StringRef name,
                              const MLAAttentionSpec &s) {
  MLIRContext *context = outer.getContext();
  KernelBuilder kb(outer, loc, name, "mla_attention", kernelInterface(s),
                   {getAffineConstantExpr(s.heads, context),
                    getAffineSymbolExpr(0, context),
                    getAffineConstantExpr(1, context)});
  OpBuilder &b = kb.builder();
  Type f32 = b.getF32Type();
  const int64_t dyn = ShapedType::kDynamic;
  const int64_t qkDim = s.nope + s.rope, kvBRows = s.heads * (s.nope + s.v),
                width = s.rank + s.rope;
  Value m = kb.scalar(0), tokens = kb.scalar(1);

  AttentionEmitter at{kb, s, {}, {}, {}};
  int64_t next = 0;
  Value q = kb.binding(next++, {dyn, s.heads * qkDim}, f32, m);
  at.kvB = kb.binding(next++, {kvBRows, s.rank}, KernelBuilder::storageType(s.kvB));
  if (s.kvB.block)
    at.kvBScale = kb.binding(
        next++,
        {roundUp(kvBRows, (*s.kvB.block)[0]) / (*s.kvB.block)[0],
         roundUp(s.rank, (*s.kvB.block)[1]) / (*s.kvB.block)[1]},
        f32);
  Value positions = kb.binding(next++, {dyn}, b.getI32Type(), m);
  at.cache = kb.binding(next++, {s.maxBatch, s.maxSeqLen, width}, f32);
  Value out = kb.binding(next, {dyn, s.heads * s.v}, f32, m);

  Value head = kb.workgroupId(0), token = kb.workgroupId(1);
  Value row = kb.div(token, tokens);
  Value count = kb.add(kb.loadIndex(positions, {token}), kb.index(1));
  Value qBase = kb.mul(head, kb.index(qkDim));
  Value ukBase = kb.mul(head, kb.index(s.nope + s.v));
  Value uvBase = kb.add(ukBase, kb.index(s.nope));

  // Scratch, padded to whole vectors: padding lanes stay 0.
  const int64_t rankPad = roundUp(s.rank, kVectorWidth),
                ropePad = roundUp(s.rope, kVectorWidth);
  auto scratch = [&](int64_t size) {
    return memref::AllocaOp::create(b, loc, MemRefType::get({size}, f32));
  };
  Value qLat = scratch(rankPad), qPe = scratch(ropePad), oLat = scratch(rankPad),
        scores = scratch(kPositionsPerBlock);
  Value scale = kb.splat(kb.f32(s.scale), kVectorWidth);

  // q_lat = scale * q_nope · W_UK[h], 4 vectors of the rank at a time.
  for (int64_t c0 = 0; c0 < s.rank; c0 += 4 * kVectorWidth) {
    SmallVector<int64_t> chunks;
    SmallVector<Value> masks;
    for (int64_t c = c0; c < std::min(s.rank, c0 + 4 * kVectorWidth);
         c += kVectorWidth) {
      chunks.push_back(c);
      int64_t n = std::min(kVectorWidth, s.rank - c);
      masks.push_back(n < kVectorWidth ? kb.mask(kVectorWidth, n) : Value());
    }
    SmallVector<Value> init(chunks.size(), kb.zeros(kVectorWidth));
    SmallVector<Value> acc = kb.forLoop(
        kb.index(0), kb.index(s.nope), kb.index(1), init,
        [&](Value n, ValueRange carried) {
          Value qn = memref::LoadOp::create(b, loc, q,
                                            ValueRange{token, kb.add(qBase, n)});
          Value qv = kb.splat(qn, kVectorWidth);
          SmallVector<Value> next;
          for (auto [i, c] : llvm::enumerate(chunks))
            next.push_back(
                kb.fma(qv, at.weights(kb.add(ukBase, n), c, masks[i]), carried[i]));
          return next;
        });
    for (auto [i, c] : llvm::enumerate(chunks))
      kb.storeF32(arith::MulFOp::create(b, loc, acc[i], scale), qLat,
                  {kb.index(c)});
  }
  forChunks(kb, ropePad, [&](int64_t c, Value) {
    int64_t n = std::min(kVectorWidth, s.rope - c);
    Value mask = n < kVectorWidth ? kb.mask(kVectorWidth, n) : Value();
    Value v = kb.loadF32(q, {token, kb.add(qBase, kb.index(s.nope + c))},
                         kVectorWidth, f32, mask);
    kb.storeF32(arith::MulFOp::create(b, loc, v, scale), qPe, {kb.index(c)});
  });
  forChunks(kb, rankPad, [&](int64_t c, Value) {
    kb.storeF32(kb.zeros(kVectorWidth), oLat, {kb.index(c)});
  });

  // Online softmax over positions [0, count) of this row, 16 at a time.
  Value negInf = kb.f32(-std::numeric_limits<float>::infinity());
  Value last = kb.sub(count, kb.index(1));
  SmallVector<Value> state = kb.forLoop(
      kb.index(0), count, kb.index(kPositionsPerBlock),
      ValueRange{negInf, kb.f32(0.0)}, [&](Value s0, ValueRange carried) {
        Value runningMax = carried[0], runningSum = carried[1];
        // Positions past the end read the last valid row and score -inf.
        SmallVector<Value> rowsAt;
        for (int64_t j = 0; j < kPositionsPerBlock; ++j) {
          Value pos = kb.add(s0, kb.index(j));
          Value at_ = kb.min(pos, last);
          rowsAt.push_back(at_);
          Value dot = kb.zeros(kVectorWidth);
          forChunks(kb, s.rank, [&](int64_t c, Value mask) {
            Value kv = kb.loadF32(at.cache, {row, at_, kb.index(c)}, kVectorWidth,
                                  f32, mask);
            dot = kb.fma(kb.loadF32(qLat, {kb.index(c)}, kVectorWidth, f32), kv,
                         dot);
          });
          forChunks(kb, s.rope, [&](int64_t c, Value mask) {
            Value kpe = kb.loadF32(at.cache, {row, at_, kb.index(s.rank + c)},
                                   kVectorWidth, f32, mask);
            dot = kb.fma(kb.loadF32(qPe, {kb.index(c)}, kVectorWidth, f32), kpe,
                         dot);
          });
          Value score = arith::SelectOp::create(b, loc, kb.lt(pos, count),
                                                kb.reduceAdd(dot), negInf);
          memref::StoreOp::create(b, loc, score, scores,
                                  ValueRange{kb.index(j)});
        }
        Value block = kb.loadF32(scores, {kb.index(0)}, kPositionsPerBlock, f32);
        Value newMax =
            arith::MaxNumFOp::create(b, loc, runningMax, kb.reduceMax(block));
        Value correction =
            kb.exp(arith::SubFOp::create(b, loc, runningMax, newMax));
        Value probs = kb.exp(arith::SubFOp::create(
            b, loc, block, kb.splat(newMax, kPositionsPerBlock)));
        Value newSum = arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, runningSum, correction),
            kb.reduceAdd(probs));
        kb.storeF32(probs, scores, {kb.index(0)});
        Value correctionV = kb.splat(correction, kVectorWidth);
        forChunks(kb, s.rank, [&](int64_t c, Value mask) {
          Value o = arith::MulFOp::create(
              b, loc, kb.loadF32(oLat, {kb.index(c)}, kVectorWidth, f32),
              correctionV);
          for (int64_t j = 0; j < kPositionsPerBlock; ++j) {
            Value p = memref::LoadOp::create(b, loc, scores,
                                             ValueRange{kb.index(j)});
            Value kv = kb.loadF32(at.cache, {row, rowsAt[j], kb.index(c)},
                                  kVectorWidth, f32, mask);
            o = kb.fma(kb.splat(p, kVectorWidth), kv, o);
          }
          kb.storeF32(o, oLat, {kb.index(c)});
        });
        return SmallVector<Value>{newMax, newSum};
      });

  // out[token, h * v + i] = (o_lat / sum) · W_UV[h][i], 8 rows of W_UV at once.
  Value inverse = arith::DivFOp::create(b, loc, kb.f32(1.0), state[1]);
  constexpr int64_t rowsPerStep = 8;
  kb.forLoop(0, s.v, rowsPerStep, [&](Value i0) {
    SmallVector<Value> wRows;
    for (int64_t r = 0; r < rowsPerStep; ++r)
      wRows.push_back(kb.add(uvBase, kb.min(kb.add(i0, kb.index(r)),
                                            kb.index(s.v - 1))));
    SmallVector<Value> acc(rowsPerStep, kb.zeros(kVectorWidth));
    forChunks(kb, s.rank, [&](int64_t c, Value mask) {
      Value o = kb.loadF32(oLat, {kb.index(c)}, kVectorWidth, f32);
      for (int64_t r = 0; r < rowsPerStep; ++r)
        acc[r] = kb.fma(o, at.weights(wRows[r], c, mask), acc[r]);
    });
    for (int64_t r = 0; r < rowsPerStep; ++r) {
      Value i = kb.add(i0, kb.index(r));
      Value value = arith::MulFOp::create(b, loc, kb.reduceAdd(acc[r]), inverse);
      kb.ifThen(kb.lt(i, kb.index(s.v)), [&] {
        memref::StoreOp::create(
            b, loc, value, out,
            ValueRange{token, kb.add(kb.mul(head, kb.index(s.v)), i)});
      });
    }
  });
  return kb.getFunction();
}

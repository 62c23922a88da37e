//===- Attention.cpp - MLA attention over the latent cache ----------------===//
//
// Two strategies in one kernel, chosen per batch row at run time by what
// each costs in multiply-adds. The grid is the same for both: (head groups
// of up to 8 heads, tokens).
//
// - **Absorbed** (decode; short chunks over a long cache): a workgroup
//   takes a head group and a block of up to 4 tokens (of consecutive rows
//   in decode, within one row otherwise). It absorbs the block's queries
//   into latent space (q_lat = q_nope · W_UK[h], the softmax scale folded
//   in) and projects their outputs last (o_lat · W_UV[h]ᵀ), each chunk of
//   W_UK / W_UV loaded once for the block. In between each token walks its
//   row's cache: MLA's cache holds one latent row per position, shared by
//   every head, so the group's heads read each cache row once for all of
//   them (FlashMLA does the same across a warpgroup's 64 heads). Scores are
//   dot products with whole cache rows, for a block of B positions at a
//   time (B = one register of f32 lanes), B independent accumulators per
//   head so that the FMAs do not wait on each other; the block's scores
//   form one vector, for an online softmax (running max and sum, the
//   latent output rescaled once per block). o_lat = softmax · c_kv
//   accumulates, one register of the rank at a time, the block's B cache
//   rows weighted by each head's probabilities. Each (token, head,
//   position) costs 2 * rank + rope multiply-adds, each (token, head)
//   rank * (nope + v).
//
// - **Up-projected** (prefill): one workgroup per (head, row) takes every
//   token of the row. It walks the row's cache in blocks of positions,
//   up-projects each block once (K_nope = c_kv · W_UK[h]ᵀ, V = c_kv ·
//   W_UV[h]ᵀ, K stored transposed with k_pe below it, the softmax scale
//   folded in) and runs every query tile of the row that reaches the block
//   against it: scores of a tile of tokens x positions as register-blocked
//   outer products (a broadcast query element times a register of K's
//   row), the online softmax per token, and P·V as outer products again
//   into the tokens' outputs, which stay in `out` between blocks (the
//   running max and sum in scratch). Each (token, head, position) costs
//   nope + rope + v multiply-adds, each (position, head) rank * (nope + v)
//   once: in a fresh prefill about 3x fewer for the causal part than
//   absorbed (1.9x fewer in all at 512 tokens of DeepSeek's dims). A
//   head's up-projection is a [positions, rank] x [rank, nope + v] product
//   in dot-product form like the GEMM's (6 cache rows x 2 weight rows).
//
// Positions past a token's own score -inf in both.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Generators.h"
#include "targets/cpu/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>
#include <numeric>

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

constexpr int64_t kMaxHeadsPerWorkgroup = 8;
/// Tokens an absorbed workgroup takes: their queries are absorbed and their
/// outputs projected with each chunk of W_UK / W_UV read from memory once
/// (a batch-4 decode step would otherwise read kv_b_proj four times).
constexpr int64_t kAbsorbedTokens = 4;
/// Most tokens of a row whose softmax state an up-projected workgroup keeps
/// at once (their running max and sum, 8 bytes each, on the stack); a
/// longer row is taken in chunks, each up-projecting the cache again.
constexpr int64_t kMaxQueryChunk = 4096;

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

/// The launch's buffers and what both strategies read them with.
struct Launch {
  KernelBuilder &kb;
  const MLAAttentionSpec &s;
  Value q, kvB, kvBScale, positions, cache, out;

  OpBuilder &b() { return kb.builder(); }
  Location loc() { return kb.getLoc(); }
  Value scratch(ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b(), loc(),
                                    MemRefType::get(shape, b().getF32Type()));
  }
  Value load(Value memref, ValueRange at) {
    return memref::LoadOp::create(b(), loc(), memref, at);
  }
  void store(Value value, Value memref, ValueRange at) {
    memref::StoreOp::create(b(), loc(), value, memref, at);
  }
  /// `lanes` weights of row `row` of kv_b_proj from column `col`, as f32.
  Value weights(Value row, Value col, int64_t lanes, Value mask) {
    Value w = kb.loadF32(kvB, {row, col}, lanes, s.kvB.elementType, mask);
    if (!s.kvB.block)
      return w;
    auto [bn, bk] = *s.kvB.block;
    Value scale =
        load(kvBScale, {kb.div(row, kb.index(bn)), kb.div(col, kb.index(bk))});
    return arith::MulFOp::create(b(), loc(), w, kb.splat(scale, lanes));
  }
};

//===----------------------------------------------------------------------===//
// Absorbed
//===----------------------------------------------------------------------===//

class AbsorbedEmitter {
public:
  /// Allocates the scratch: call at the kernel's entry.
  AbsorbedEmitter(Launch &io, const CpuDescription &cpu)
      : io(io), kb(io.kb), b(io.b()), loc(io.loc()), s(io.s), lanes(cpu.lanes),
        group(headsPerWorkgroup(s.heads)), rankPad(roundUp(s.rank, cpu.lanes)),
        ropePad(roundUp(s.rope, cpu.lanes)) {
    const int64_t tokens = kAbsorbedTokens;
    qLat = io.scratch({tokens, group, rankPad});
    qPe = io.scratch({tokens, group, ropePad});
    oLat = io.scratch({tokens, group, rankPad});
    runningSum = io.scratch({tokens, group});
    probs = io.scratch({group, lanes});
    runningMax = io.scratch({group});
    correction = io.scratch({group});
  }

  /// Heads [firstHead, firstHead + group) of tokens [first, first + count)
  /// (count <= kAbsorbedTokens), each of row token / tokensPerRow.
  void emit(Value first, Value count, Value tokensPerRow, Value firstHead);

private:
  Value weights(Value row, int64_t col, Value mask) {
    return io.weights(row, kb.index(col), lanes, mask);
  }
  /// Calls `fn(c, mask)` for the register-sized chunks of `length`; the
  /// last chunk's mask covers what is left (null when full).
  void forChunks(int64_t length, const std::function<void(int64_t, Value)> &fn);
  Value load(Value memref, ValueRange at) { return io.load(memref, at); }
  void store(Value value, Value memref, ValueRange at) {
    io.store(value, memref, at);
  }

  /// q_lat and q_pe of each token and head, scaled.
  void absorbQueries();
  /// The online softmax of token t of the block over its row's cache.
  void attend(Value t);
  /// Scores of positions [s0, s0 + B) for token t and head `hg`, masked
  /// past `count`, as one vector.
  Value blockScores(Value t, Value hg, Value s0);
  /// o_lat of token t and every head += the block's rows, weighted.
  void accumulateBlock(Value t);
  /// out = o_lat / sum · W_UV[h]ᵀ for each token and head.
  void project();

  Launch &io;
  KernelBuilder &kb;
  OpBuilder &b;
  Location loc;
  const MLAAttentionSpec &s;
  const int64_t lanes, group, rankPad, ropePad;

  Value first, tokenCount, tokensPerRow, firstHead;
  /// While attending: the token's row and positions [0, count).
  Value row, count;
  /// Scratch, padded to whole registers (padding lanes stay 0): per token
  /// and head its q_lat, q_pe, o_lat and softmax sum; per head, for the
  /// token being attended, its block probabilities and the softmax's
  /// running max and last correction.
  Value qLat, qPe, oLat, runningSum, probs, runningMax, correction;
  /// The block's cache rows (clamped to the last valid one).
  SmallVector<Value> blockRows;
};

void AbsorbedEmitter::forChunks(int64_t length,
                                const std::function<void(int64_t, Value)> &fn) {
  for (int64_t c = 0; c < length; c += lanes) {
    int64_t n = std::min(lanes, length - c);
    fn(c, n < lanes ? kb.mask(lanes, n) : Value());
  }
}

void AbsorbedEmitter::absorbQueries() {
  const int64_t qkDim = s.nope + s.rope;
  Value scale = kb.splat(kb.f32(s.scale), lanes);
  kb.forLoop(0, group, 1, [&](Value hg) {
    Value head = kb.add(firstHead, hg);
    Value qBase = kb.mul(head, kb.index(qkDim));
    Value ukBase = kb.mul(head, kb.index(s.nope + s.v));
    // q_lat = scale * q_nope · W_UK[h], four registers of the rank at a
    // time: W_UK's rows are contiguous along the rank. The chunk's 128
    // rows (8 KiB at nope = 128, rank 512) stay in L1 for the block's
    // tokens: W_UK is read from memory once per block, not once per token.
    for (int64_t c0 = 0; c0 < s.rank; c0 += 4 * lanes) {
      SmallVector<int64_t> chunks;
      SmallVector<Value> masks;
      for (int64_t c = c0; c < std::min(s.rank, c0 + 4 * lanes); c += lanes) {
        chunks.push_back(c);
        int64_t n = std::min(lanes, s.rank - c);
        masks.push_back(n < lanes ? kb.mask(lanes, n) : Value());
      }
      kb.forLoop(kb.index(0), tokenCount, kb.index(1), [&](Value t) {
        Value token = kb.add(first, t);
        SmallVector<Value> init(chunks.size(), kb.zeros(lanes));
        SmallVector<Value> acc = kb.forLoop(
            kb.index(0), kb.index(s.nope), kb.index(1), init,
            [&](Value n, ValueRange carried) {
              Value qv = kb.splat(load(io.q, {token, kb.add(qBase, n)}), lanes);
              SmallVector<Value> next;
              for (auto [i, c] : llvm::enumerate(chunks))
                next.push_back(kb.fma(
                    qv, weights(kb.add(ukBase, n), c, masks[i]), carried[i]));
              return next;
            });
        for (auto [i, c] : llvm::enumerate(chunks))
          kb.storeF32(arith::MulFOp::create(b, loc, acc[i], scale), qLat,
                      {t, hg, kb.index(c)});
      });
    }
    kb.forLoop(kb.index(0), tokenCount, kb.index(1), [&](Value t) {
      Value token = kb.add(first, t);
      forChunks(s.rope, [&](int64_t c, Value mask) {
        Value v = kb.loadF32(io.q, {token, kb.add(qBase, kb.index(s.nope + c))},
                             lanes, b.getF32Type(), mask);
        kb.storeF32(arith::MulFOp::create(b, loc, v, scale), qPe,
                    {t, hg, kb.index(c)});
      });
    });
  });
}

Value AbsorbedEmitter::blockScores(Value t, Value hg, Value s0) {
  Type f32 = b.getF32Type();
  // B independent dot products, one register of the rank at a time.
  auto dots = [&](Value queries, int64_t offset, int64_t length,
                  ValueRange init) {
    SmallVector<Value> acc(init.begin(), init.end());
    const int64_t full = length / lanes * lanes;
    auto chunk = [&](Value c, Value mask, ValueRange carried) {
      Value qv = kb.loadF32(queries, {t, hg, c}, lanes, f32);
      SmallVector<Value> next;
      for (auto [j, rowAt] : llvm::enumerate(blockRows))
        next.push_back(kb.fma(
            qv,
            kb.loadF32(io.cache, {row, rowAt, kb.add(c, kb.index(offset))},
                       lanes, f32, mask),
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
  Value block = kb.reduceAddPacked(acc)[0];
  // Positions s0 + j >= count do not exist yet.
  Value valid = kb.mask(lanes, kb.sub(count, s0));
  Value negInf =
      kb.splat(kb.f32(-std::numeric_limits<float>::infinity()), lanes);
  return arith::SelectOp::create(b, loc, valid, block, negInf);
}

void AbsorbedEmitter::accumulateBlock(Value t) {
  Type f32 = b.getF32Type();
  // Per register of the rank: the block's rows once, then each head's
  // rescaled o_lat plus its weighted rows (the heads' chains independent).
  auto chunk = [&](Value c, Value mask) {
    SmallVector<Value> rows;
    for (Value rowAt : blockRows)
      rows.push_back(kb.loadF32(io.cache, {row, rowAt, c}, lanes, f32, mask));
    for (int64_t h = 0; h < group; ++h) {
      Value hg = kb.index(h);
      Value o = arith::MulFOp::create(b, loc,
                                      kb.loadF32(oLat, {t, hg, c}, lanes, f32),
                                      kb.splat(load(correction, {hg}), lanes));
      for (auto [j, rowValue] : llvm::enumerate(rows))
        o = kb.fma(kb.splat(load(probs, {hg, kb.index(j)}), lanes), rowValue,
                   o);
      kb.storeF32(o, oLat, {t, hg, c});
    }
  };
  const int64_t full = s.rank / lanes * lanes;
  if (full > 0)
    kb.forLoop(kb.index(0), kb.index(full), kb.index(lanes),
               [&](Value c) { chunk(c, Value()); });
  if (s.rank > full)
    chunk(kb.index(full), kb.mask(lanes, s.rank - full));
}

void AbsorbedEmitter::attend(Value t) {
  Value token = kb.add(first, t);
  row = kb.div(token, tokensPerRow);
  count = kb.add(kb.loadIndex(io.positions, {token}), kb.index(1));
  Value negInf = kb.f32(-std::numeric_limits<float>::infinity());
  kb.forLoop(0, group, 1, [&](Value hg) { store(negInf, runningMax, {hg}); });
  // Online softmax over positions [0, count) of this row, B at a time.
  Value last = kb.sub(count, kb.index(1));
  kb.forLoop(kb.index(0), count, kb.index(lanes), [&](Value s0) {
    // Positions past the end read the last valid row and score -inf.
    blockRows.clear();
    for (int64_t j = 0; j < lanes; ++j)
      blockRows.push_back(kb.min(kb.add(s0, kb.index(j)), last));
    kb.forLoop(0, group, 1, [&](Value hg) {
      Value scores = blockScores(t, hg, s0);
      Value previous = load(runningMax, {hg});
      Value newMax =
          arith::MaxNumFOp::create(b, loc, previous, kb.reduceMax(scores));
      Value factor = kb.exp(arith::SubFOp::create(b, loc, previous, newMax));
      Value p = kb.exp(
          arith::SubFOp::create(b, loc, scores, kb.splat(newMax, lanes)));
      Value sum = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, load(runningSum, {t, hg}), factor),
          kb.reduceAdd(p));
      kb.storeF32(p, probs, {hg, kb.index(0)});
      store(factor, correction, {hg});
      store(newMax, runningMax, {hg});
      store(sum, runningSum, {t, hg});
    });
    accumulateBlock(t);
  });
}

void AbsorbedEmitter::project() {
  Type f32 = b.getF32Type();
  constexpr int64_t rowsPerStep = 8;
  kb.forLoop(0, group, 1, [&](Value hg) {
    Value head = kb.add(firstHead, hg);
    Value uvBase =
        kb.add(kb.mul(head, kb.index(s.nope + s.v)), kb.index(s.nope));
    // 8 rows of W_UV at once, each a dot product with o_lat; the 8 rows
    // stay in L1 for the block's tokens.
    kb.forLoop(0, s.v, rowsPerStep, [&](Value i0) {
      SmallVector<Value> wRows;
      for (int64_t r = 0; r < rowsPerStep; ++r)
        wRows.push_back(
            kb.add(uvBase, kb.min(kb.add(i0, kb.index(r)), kb.index(s.v - 1))));
      kb.forLoop(kb.index(0), tokenCount, kb.index(1), [&](Value t) {
        Value token = kb.add(first, t);
        Value inverse = arith::DivFOp::create(b, loc, kb.f32(1.0),
                                              load(runningSum, {t, hg}));
        SmallVector<Value> acc(rowsPerStep, kb.zeros(lanes));
        forChunks(s.rank, [&](int64_t c, Value mask) {
          Value o = kb.loadF32(oLat, {t, hg, kb.index(c)}, lanes, f32);
          for (int64_t r = 0; r < rowsPerStep; ++r)
            acc[r] = kb.fma(o, weights(wRows[r], c, mask), acc[r]);
        });
        SmallVector<Value> sums = kb.reduceAddEach(acc);
        for (int64_t r = 0; r < rowsPerStep; ++r) {
          Value i = kb.add(i0, kb.index(r));
          Value value = arith::MulFOp::create(b, loc, sums[r], inverse);
          kb.ifThen(kb.lt(i, kb.index(s.v)), [&] {
            store(value, io.out,
                  {token, kb.add(kb.mul(head, kb.index(s.v)), i)});
          });
        }
      });
    });
  });
}

void AbsorbedEmitter::emit(Value firstValue, Value countValue,
                           Value tokensPerRowValue, Value firstHeadValue) {
  first = firstValue;
  tokenCount = countValue;
  tokensPerRow = tokensPerRowValue;
  firstHead = firstHeadValue;
  kb.forLoop(kb.index(0), tokenCount, kb.index(1), [&](Value t) {
    kb.forLoop(0, group, 1, [&](Value hg) {
      forChunks(rankPad, [&](int64_t c, Value) {
        kb.storeF32(kb.zeros(lanes), qLat, {t, hg, kb.index(c)});
        kb.storeF32(kb.zeros(lanes), oLat, {t, hg, kb.index(c)});
      });
      forChunks(ropePad, [&](int64_t c, Value) {
        kb.storeF32(kb.zeros(lanes), qPe, {t, hg, kb.index(c)});
      });
      store(kb.f32(0.0), runningSum, {t, hg});
    });
  });
  absorbQueries();
  kb.forLoop(kb.index(0), tokenCount, kb.index(1), [&](Value t) { attend(t); });
  project();
}

//===----------------------------------------------------------------------===//
// Up-projected
//===----------------------------------------------------------------------===//

/// How the up-projected strategy blocks its work into registers.
struct PrefillBlocking {
  int64_t lanes;
  /// Score and P·V tiles: `tokens` query tokens x `vectors` registers (of
  /// positions, or of V's dims) of accumulators.
  int64_t tokens, vectors;
  /// The up-projection's micro-kernel: dot products of upRows cache rows
  /// with upColumns weight rows, each weight register widened once.
  int64_t upRows, upColumns;
  /// Positions per block: a multiple of upRows and of a tile's width.
  int64_t positions;
  int64_t tileWidth() const { return vectors * lanes; }
};

PrefillBlocking choosePrefillBlocking(const CpuDescription &cpu) {
  PrefillBlocking p;
  p.lanes = cpu.lanes;
  p.vectors = 2;
  // 6 x 2 accumulators leave 16 ymm registers room for a tile's two
  // loaded vectors and a broadcast; 32 zmm registers take 8 x 2 easily.
  p.tokens = cpu.registers >= 32 ? 8 : 6;
  p.upRows = p.tokens;
  p.upColumns = 2;
  // About 64 positions: the block's K and V (36 KiB and 24 KiB at
  // DeepSeek's dims with 48) stay in L1/L2 while the row's query tiles
  // pass, and the per-block costs (rescaling the outputs, the softmax's
  // exponentials) stay a few percent of the tiles' FMAs.
  int64_t unit = std::lcm(p.upRows, p.tileWidth());
  p.positions = unit * std::max<int64_t>(1, 64 / unit);
  return p;
}

class PrefillEmitter {
public:
  /// Allocates the scratch: call at the kernel's entry.
  PrefillEmitter(Launch &io, const CpuDescription &cpu)
      : io(io), kb(io.kb), b(io.b()), loc(io.loc()), s(io.s),
        p(choosePrefillBlocking(cpu)), qkDim(s.nope + s.rope),
        vPad(roundUp(s.v, p.tileWidth())),
        chunk(std::min(kMaxQueryChunk, s.maxSeqLen)) {
    keys = io.scratch({qkDim, p.positions});
    values = io.scratch({p.positions, vPad});
    probs = io.scratch({p.tokens, p.positions});
    tileCorrection = io.scratch({p.tokens});
    runningMax = io.scratch({chunk});
    runningSum = io.scratch({chunk});
  }

  /// Head `head` of every token [first, first + count) of row `row`.
  void emit(Value head, Value row, Value first, Value count);

private:
  Value load(Value memref, ValueRange at) { return io.load(memref, at); }
  void store(Value value, Value memref, ValueRange at) {
    io.store(value, memref, at);
  }
  /// Calls fn(offset, mask) for the registers of one row of `out`'s head
  /// slice (the last one masked if v is not a multiple of the lanes).
  void forOutputChunks(const std::function<void(int64_t, Value)> &fn);
  /// keys (K_nope ‖ k_pe, scaled, transposed) and values of positions
  /// [s0, s0 + block), clamped to `last`.
  void upProject(Value s0, Value last);
  /// Scores, softmax and P·V of the query tile of chunk tokens [t0, t0 +
  /// n) (n <= p.tokens) against the block at s0, of which the first
  /// `reached` positions (> 0) are at or before some token of the tile.
  void tile(ArrayRef<Value> tokens, Value t0, Value n, Value s0, Value reached);

  Launch &io;
  KernelBuilder &kb;
  OpBuilder &b;
  Location loc;
  const MLAAttentionSpec &s;
  const PrefillBlocking p;
  const int64_t qkDim, vPad, chunk;

  Value head, row, chunkFirst;
  /// Scratch: the block's keys [nope + rope, block] and values [block,
  /// vPad]; a tile's scores, then probabilities; the tile's softmax
  /// corrections; the chunk's running max and sum per token.
  Value keys, values, probs, tileCorrection, runningMax, runningSum;
};

void PrefillEmitter::forOutputChunks(
    const std::function<void(int64_t, Value)> &fn) {
  for (int64_t c = 0; c < s.v; c += p.lanes) {
    int64_t n = std::min(p.lanes, s.v - c);
    fn(c, n < p.lanes ? kb.mask(p.lanes, n) : Value());
  }
}

void PrefillEmitter::upProject(Value s0, Value last) {
  Type f32 = b.getF32Type();
  const int64_t lanes = p.lanes, full = s.rank / lanes * lanes, mr = p.upRows,
                nr = p.upColumns;
  Value scale = kb.f32(s.scale);
  Value weightBase = kb.mul(head, kb.index(s.nope + s.v));
  // Only the positions up to `last`: slots past them keep finite values
  // (zeros or an earlier block's), their scores are masked and their
  // probabilities 0.
  Value used =
      kb.min(kb.index(p.positions), kb.sub(kb.add(last, kb.index(1)), s0));
  kb.forLoop(kb.index(0), used, kb.index(mr), [&](Value j0) {
    SmallVector<Value> slots, at;
    for (int64_t i = 0; i < mr; ++i) {
      slots.push_back(kb.add(j0, kb.index(i)));
      at.push_back(kb.min(kb.add(s0, slots.back()), last));
    }
    // mr x nr dot products along the rank: cache rows `at` with weight rows
    // [w0, w0 + nr) of the head, clamped below `wEnd`; each weight register
    // is widened once for mr rows.
    auto dots = [&](Value w0, int64_t wEnd) {
      SmallVector<Value> rows;
      for (int64_t c = 0; c < nr; ++c)
        rows.push_back(kb.add(
            weightBase, kb.min(kb.add(w0, kb.index(c)), kb.index(wEnd - 1))));
      auto step = [&](Value k, Value mask, ValueRange carried) {
        SmallVector<Value> w;
        for (int64_t c = 0; c < nr; ++c)
          w.push_back(io.weights(rows[c], k, lanes, mask));
        SmallVector<Value> next(carried.begin(), carried.end());
        for (int64_t i = 0; i < mr; ++i) {
          Value x = kb.loadF32(io.cache, {row, at[i], k}, lanes, f32, mask);
          for (int64_t c = 0; c < nr; ++c)
            next[i * nr + c] = kb.fma(x, w[c], next[i * nr + c]);
        }
        return next;
      };
      SmallVector<Value> acc(mr * nr, kb.zeros(lanes));
      if (full > 0)
        acc = kb.forLoop(kb.index(0), kb.index(full), kb.index(lanes), acc,
                         [&](Value k, ValueRange carried) {
                           return step(k, Value(), carried);
                         });
      if (s.rank > full)
        acc = step(kb.index(full), kb.mask(lanes, s.rank - full), acc);
      return kb.reduceAddEach(acc);
    };
    // Clamped weight rows repeat the last one: same value, same place.
    kb.forLoop(0, s.nope, nr, [&](Value n0) {
      SmallVector<Value> sums = dots(n0, s.nope);
      for (int64_t c = 0; c < nr; ++c) {
        Value n = kb.min(kb.add(n0, kb.index(c)), kb.index(s.nope - 1));
        for (int64_t i = 0; i < mr; ++i)
          store(arith::MulFOp::create(b, loc, sums[i * nr + c], scale), keys,
                {n, slots[i]});
      }
    });
    kb.forLoop(0, s.v, nr, [&](Value n0) {
      SmallVector<Value> sums =
          dots(kb.add(kb.index(s.nope), n0), s.nope + s.v);
      for (int64_t c = 0; c < nr; ++c) {
        Value n = kb.min(kb.add(n0, kb.index(c)), kb.index(s.v - 1));
        for (int64_t i = 0; i < mr; ++i)
          store(sums[i * nr + c], values, {slots[i], n});
      }
    });
    // k_pe, shared by every head, below K_nope.
    kb.forLoop(0, s.rope, 1, [&](Value d) {
      Value from = kb.add(kb.index(s.rank), d),
            to = kb.add(kb.index(s.nope), d);
      for (int64_t i = 0; i < mr; ++i)
        store(arith::MulFOp::create(b, loc, load(io.cache, {row, at[i], from}),
                                    scale),
              keys, {to, slots[i]});
    });
  });
}

void PrefillEmitter::tile(ArrayRef<Value> tokens, Value t0, Value n, Value s0,
                          Value reached) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t lanes = p.lanes, mr = p.tokens, nr = p.vectors,
                width = p.tileWidth();
  Value qBase = kb.mul(head, kb.index(qkDim));

  // Scores, width positions at a time: acc[i][c] += q[i, d] * keys[d, c].
  SmallVector<Value> lastPosition;
  for (Value token : tokens)
    lastPosition.push_back(kb.splat(io.load(io.positions, {token}), lanes));
  SmallVector<int32_t> iotaValues;
  for (int64_t l = 0; l < lanes; ++l)
    iotaValues.push_back(static_cast<int32_t>(l));
  VectorType indexVector = kb.vectorType(lanes, i32);
  Value iota = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(indexVector, ArrayRef(iotaValues)));
  Value negInf =
      kb.splat(kb.f32(-std::numeric_limits<float>::infinity()), lanes);
  // Sub-tiles past `reached` (the causal triangle of the tile's last
  // block) score -inf without computing.
  kb.forLoop(0, p.positions, width, [&](Value js) {
    kb.ifThenElse(
        kb.lt(js, reached),
        [&] {
          SmallVector<Value> acc(mr * nr, kb.zeros(lanes));
          acc = kb.forLoop(
              kb.index(0), kb.index(qkDim), kb.index(1), acc,
              [&](Value d, ValueRange carried) {
                SmallVector<Value> k;
                for (int64_t c = 0; c < nr; ++c)
                  k.push_back(kb.loadF32(
                      keys, {d, kb.add(js, kb.index(c * lanes))}, lanes, f32));
                SmallVector<Value> next(carried.begin(), carried.end());
                for (int64_t i = 0; i < mr; ++i) {
                  Value qv = kb.splat(load(io.q, {tokens[i], kb.add(qBase, d)}),
                                      lanes);
                  for (int64_t c = 0; c < nr; ++c)
                    next[i * nr + c] = kb.fma(qv, k[c], next[i * nr + c]);
                }
                return next;
              });
          for (int64_t c = 0; c < nr; ++c) {
            Value offset = kb.add(js, kb.index(c * lanes));
            Value first =
                arith::IndexCastOp::create(b, loc, i32, kb.add(s0, offset));
            Value position =
                arith::AddIOp::create(b, loc, iota, kb.splat(first, lanes));
            for (int64_t i = 0; i < mr; ++i) {
              Value valid = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::sle, position, lastPosition[i]);
              kb.storeF32(arith::SelectOp::create(b, loc, valid,
                                                  acc[i * nr + c], negInf),
                          probs, {kb.index(i), offset});
            }
          }
        },
        [&] {
          for (int64_t i = 0; i < mr; ++i)
            for (int64_t c = 0; c < nr; ++c)
              kb.storeF32(negInf, probs,
                          {kb.index(i), kb.add(js, kb.index(c * lanes))});
        });
  });

  // Online softmax per token of the tile; every token saw position 0 in
  // the first block, so its running max is finite from then on.
  const int64_t blockVectors = p.positions / lanes;
  kb.forLoop(kb.index(0), n, kb.index(1), [&](Value i) {
    Value t = kb.add(t0, i);
    SmallVector<Value> scores;
    for (int64_t j = 0; j < blockVectors; ++j)
      scores.push_back(kb.loadF32(probs, {i, kb.index(j * lanes)}, lanes, f32));
    Value blockMax = scores[0];
    for (int64_t j = 1; j < blockVectors; ++j)
      blockMax = arith::MaxNumFOp::create(b, loc, blockMax, scores[j]);
    Value previous = load(runningMax, {t});
    Value newMax =
        arith::MaxNumFOp::create(b, loc, previous, kb.reduceMax(blockMax));
    Value factor = kb.exp(arith::SubFOp::create(b, loc, previous, newMax));
    Value shift = kb.splat(newMax, lanes);
    Value sum;
    for (int64_t j = 0; j < blockVectors; ++j) {
      Value e = kb.exp(arith::SubFOp::create(b, loc, scores[j], shift));
      kb.storeF32(e, probs, {i, kb.index(j * lanes)});
      sum = sum ? arith::AddFOp::create(b, loc, sum, e) : e;
    }
    store(newMax, runningMax, {t});
    store(arith::AddFOp::create(
              b, loc,
              arith::MulFOp::create(b, loc, load(runningSum, {t}), factor),
              kb.reduceAdd(sum)),
          runningSum, {t});
    store(factor, tileCorrection, {i});
  });

  // out[i, e] = out[i, e] * correction[i] + sum_j probs[i, j] * values[j, e],
  // width dims of v at a time.
  Value outBase = kb.mul(head, kb.index(s.v));
  kb.forLoop(0, vPad, width, [&](Value e0) {
    SmallVector<Value> masks;
    for (int64_t c = 0; c < nr; ++c)
      masks.push_back(
          s.v % width == 0
              ? Value()
              : kb.mask(lanes, kb.sub(kb.max(kb.index(s.v),
                                             kb.add(e0, kb.index(c * lanes))),
                                      kb.add(e0, kb.index(c * lanes)))));
    SmallVector<Value> acc;
    for (int64_t i = 0; i < mr; ++i) {
      Value factor = kb.splat(load(tileCorrection, {kb.index(i)}), lanes);
      for (int64_t c = 0; c < nr; ++c) {
        Value col = kb.add(outBase, kb.add(e0, kb.index(c * lanes)));
        acc.push_back(arith::MulFOp::create(
            b, loc, kb.loadF32(io.out, {tokens[i], col}, lanes, f32, masks[c]),
            factor));
      }
    }
    acc = kb.forLoop(
        kb.index(0), reached, kb.index(1), acc,
        [&](Value j, ValueRange carried) {
          SmallVector<Value> v;
          for (int64_t c = 0; c < nr; ++c)
            v.push_back(kb.loadF32(values, {j, kb.add(e0, kb.index(c * lanes))},
                                   lanes, f32));
          SmallVector<Value> next(carried.begin(), carried.end());
          for (int64_t i = 0; i < mr; ++i) {
            Value pv = kb.splat(load(probs, {kb.index(i), j}), lanes);
            for (int64_t c = 0; c < nr; ++c)
              next[i * nr + c] = kb.fma(pv, v[c], next[i * nr + c]);
          }
          return next;
        });
    for (int64_t i = 0; i < mr; ++i)
      kb.ifThen(kb.lt(kb.index(i), n), [&] {
        for (int64_t c = 0; c < nr; ++c)
          kb.storeF32(
              acc[i * nr + c], io.out,
              {tokens[i], kb.add(outBase, kb.add(e0, kb.index(c * lanes)))},
              masks[c]);
      });
  });
}

void PrefillEmitter::emit(Value headValue, Value rowValue, Value first,
                          Value count) {
  head = headValue;
  row = rowValue;
  Type f32 = b.getF32Type();
  Value outBase = kb.mul(head, kb.index(s.v));
  Value negInf = kb.f32(-std::numeric_limits<float>::infinity());
  for (auto [memref, rows, cols] : {std::tuple(keys, qkDim, p.positions),
                                    std::tuple(values, p.positions, vPad)})
    kb.forLoop(0, rows, 1, [&](Value r) {
      for (int64_t c = 0; c < cols; c += p.lanes)
        kb.storeF32(kb.zeros(p.lanes), memref, {r, kb.index(c)});
    });
  kb.forLoop(kb.index(0), count, kb.index(chunk), [&](Value c0) {
    Value tokensInChunk = kb.min(kb.index(chunk), kb.sub(count, c0));
    chunkFirst = kb.add(first, c0);
    // Fresh softmax state and zero outputs; the chunk's last position.
    SmallVector<Value> lastSeen =
        kb.forLoop(kb.index(0), tokensInChunk, kb.index(1), {kb.index(0)},
                   [&](Value t, ValueRange carried) {
                     Value token = kb.add(chunkFirst, t);
                     store(negInf, runningMax, {t});
                     store(kb.f32(0.0), runningSum, {t});
                     forOutputChunks([&](int64_t c, Value mask) {
                       kb.storeF32(kb.zeros(p.lanes), io.out,
                                   {token, kb.add(outBase, kb.index(c))}, mask);
                     });
                     return SmallVector<Value>{kb.max(
                         carried[0], kb.loadIndex(io.positions, {token}))};
                   });
    Value last = lastSeen[0];
    kb.forLoop(
        kb.index(0), kb.add(last, kb.index(1)), kb.index(p.positions),
        [&](Value s0) {
          upProject(s0, last);
          kb.forLoop(
              kb.index(0), tokensInChunk, kb.index(p.tokens), [&](Value t0) {
                // The tile's tokens, the last repeated to fill it.
                SmallVector<Value> tokens;
                Value reach = kb.index(0);
                for (int64_t i = 0; i < p.tokens; ++i) {
                  Value t = kb.min(kb.add(t0, kb.index(i)),
                                   kb.sub(tokensInChunk, kb.index(1)));
                  tokens.push_back(kb.add(chunkFirst, t));
                  reach = kb.max(reach,
                                 kb.loadIndex(io.positions, {tokens.back()}));
                }
                // Tiles whose tokens all come before the block skip it.
                kb.ifThen(kb.lt(s0, kb.add(reach, kb.index(1))), [&] {
                  Value n =
                      kb.min(kb.index(p.tokens), kb.sub(tokensInChunk, t0));
                  Value reached =
                      kb.min(kb.index(p.positions),
                             kb.sub(kb.add(reach, kb.index(1)), s0));
                  tile(tokens, t0, n, s0, reached);
                });
              });
        });
    // out /= running sum.
    kb.forLoop(kb.index(0), tokensInChunk, kb.index(1), [&](Value t) {
      Value token = kb.add(chunkFirst, t);
      Value inverse = kb.splat(
          arith::DivFOp::create(b, loc, kb.f32(1.0), load(runningSum, {t})),
          p.lanes);
      forOutputChunks([&](int64_t c, Value mask) {
        SmallVector<Value> at = {token, kb.add(outBase, kb.index(c))};
        kb.storeF32(
            arith::MulFOp::create(
                b, loc, kb.loadF32(io.out, at, p.lanes, f32, mask), inverse),
            io.out, at, mask);
      });
    });
  });
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

void emitAttention(KernelBuilder &kb, const MLAAttentionSpec &s,
                   const CpuDescription &cpu) {
  OpBuilder &b = kb.builder();
  Type f32 = b.getF32Type();
  const int64_t dyn = ShapedType::kDynamic;
  const int64_t qkDim = s.nope + s.rope, kvBRows = s.heads * (s.nope + s.v),
                width = s.rank + s.rope, group = headsPerWorkgroup(s.heads);
  Value m = kb.scalar(0), tokensPerRow = kb.scalar(1);
  Launch io{kb, s};
  int64_t next = 0;
  io.q = kb.binding(next++, {dyn, s.heads * qkDim}, f32, m);
  io.kvB =
      kb.binding(next++, {kvBRows, s.rank}, KernelBuilder::storageType(s.kvB));
  if (s.kvB.block)
    io.kvBScale =
        kb.binding(next++,
                   {roundUp(kvBRows, (*s.kvB.block)[0]) / (*s.kvB.block)[0],
                    roundUp(s.rank, (*s.kvB.block)[1]) / (*s.kvB.block)[1]},
                   f32);
  io.positions = kb.binding(next++, {dyn}, b.getI32Type(), m);
  io.cache = kb.binding(next++, {s.maxBatch, s.maxSeqLen, width}, f32);
  io.out = kb.binding(next, {dyn, s.heads * s.v}, f32, m);

  AbsorbedEmitter absorbed(io, cpu);
  PrefillEmitter prefill(io, cpu);

  Value firstHead = kb.mul(kb.workgroupId(0), kb.index(group));
  Value token = kb.workgroupId(1);
  Value row = kb.div(token, tokensPerRow);
  Value first = kb.mul(row, tokensPerRow);
  Value inRow = kb.sub(token, first);

  // Multiply-adds of each strategy for this row: absorbed, T * U + (2 *
  // rank + rope) * pairs; up-projected, chunks * P * U + (nope + rope + v)
  // * pairs, with U = rank * (nope + v) (absorbing one query and
  // projecting its output, or up-projecting one position), P the row's
  // last position + 1 and pairs the (token, position) pairs attended.
  SmallVector<Value> seen =
      kb.forLoop(kb.index(0), tokensPerRow, kb.index(1),
                 {kb.index(0), kb.index(0)}, [&](Value t, ValueRange carried) {
                   Value position =
                       kb.loadIndex(io.positions, {kb.add(first, t)});
                   return SmallVector<Value>{
                       kb.max(carried[0], position),
                       kb.add(carried[1], kb.add(position, kb.index(1)))};
                 });
  Value perPosition = kb.index(s.rank * (s.nope + s.v));
  Value chunks = kb.div(
      kb.add(tokensPerRow, kb.index(std::min(kMaxQueryChunk, s.maxSeqLen) - 1)),
      kb.index(std::min(kMaxQueryChunk, s.maxSeqLen)));
  Value absorbedCost = kb.add(kb.mul(tokensPerRow, perPosition),
                              kb.mul(kb.index(2 * s.rank + s.rope), seen[1]));
  Value upProjectedCost =
      kb.add(kb.mul(kb.mul(chunks, kb.add(seen[0], kb.index(1))), perPosition),
             kb.mul(kb.index(s.nope + s.rope + s.v), seen[1]));
  // The up-projected strategy gives `group` of the row's T workgroups of
  // each head group one head each (it needs T >= group; and T >= 2, so
  // that decode's rows are all absorbed): head j of the group to workgroup
  // floor(j * T / group), spread over the row so that the thread pool's
  // chunks of consecutive workgroups share them out.
  Value upProject = arith::AndIOp::create(
      b, kb.getLoc(),
      kb.lt(kb.index(std::max<int64_t>(group, 2) - 1), tokensPerRow),
      kb.lt(upProjectedCost, absorbedCost));
  kb.ifThenElse(
      upProject,
      [&] {
        // j = ceil(t * group / T) is the only head that can land on t.
        Value j = kb.div(kb.add(kb.mul(inRow, kb.index(group)),
                                kb.sub(tokensPerRow, kb.index(1))),
                         tokensPerRow);
        Value landsHere = arith::CmpIOp::create(
            b, kb.getLoc(), arith::CmpIPredicate::eq,
            kb.div(kb.mul(j, tokensPerRow), kb.index(group)), inRow);
        kb.ifThen(arith::AndIOp::create(b, kb.getLoc(), landsHere,
                                        kb.lt(j, kb.index(group))),
                  [&] {
                    prefill.emit(kb.add(firstHead, j), row, first,
                                 tokensPerRow);
                  });
      },
      [&] {
        // Absorbed: workgroups at multiples of kAbsorbedTokens from the
        // start of the row take the block of tokens from there; with one
        // token per row (decode) blocks run across rows instead.
        Value single =
            arith::CmpIOp::create(b, kb.getLoc(), arith::CmpIPredicate::eq,
                                  tokensPerRow, kb.index(1));
        Value blockBase =
            arith::SelectOp::create(b, kb.getLoc(), single, kb.index(0), first);
        Value blockEnd = arith::SelectOp::create(b, kb.getLoc(), single, m,
                                                 kb.add(first, tokensPerRow));
        Value starts = arith::CmpIOp::create(
            b, kb.getLoc(), arith::CmpIPredicate::eq,
            kb.rem(kb.sub(token, blockBase), kb.index(kAbsorbedTokens)),
            kb.index(0));
        kb.ifThen(starts, [&] {
          absorbed.emit(
              token, kb.min(kb.index(kAbsorbedTokens), kb.sub(blockEnd, token)),
              tokensPerRow, firstHead);
        });
      });
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
  KernelBuilder kb(
      outer, loc, name, "mla_attention", kernelInterface(s),
      {getAffineConstantExpr(s.heads / headsPerWorkgroup(s.heads), context),
       getAffineSymbolExpr(0, context), getAffineConstantExpr(1, context)});
  emitAttention(kb, s, cpu);
  return kb.getFunction();
}

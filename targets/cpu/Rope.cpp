//===- Rope.cpp - RoPE in place, and MLA's cache write --------------------===//
//
// RoPE rotates adjacent pairs (2i, 2i+1) as complex numbers. With the table
// of lathe.rope_table (row p: cos repeated per pair, then -sin/+sin), one
// 16-lane slice rotates as x * cos + swap_pairs(x) * sin: two FMAs and a
// shuffle, with the angles computed once at compile time in double.
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

void lathe::cpu::emitRopeRotation(KernelBuilder &kb, Value x,
                                  ValueRange indices, Value table,
                                  Value position, int64_t dims, Value out,
                                  ValueRange outIndices) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  SmallVector<int64_t> swap;
  for (int64_t lane = 0; lane < kVectorWidth; ++lane)
    swap.push_back(lane ^ 1);
  for (int64_t c = 0; c < dims; c += kVectorWidth) {
    const int64_t count = std::min(kVectorWidth, dims - c);
    Value mask = count < kVectorWidth ? kb.mask(kVectorWidth, count) : Value();
    auto shifted = [&](ValueRange base) {
      SmallVector<Value> at(base.begin(), base.end());
      at.back() = kb.add(at.back(), kb.index(c));
      return at;
    };
    Type f32 = b.getF32Type();
    Value v = kb.loadF32(x, shifted(indices), kVectorWidth, f32, mask);
    Value cos = kb.loadF32(table, {position, kb.index(0), kb.index(c)},
                           kVectorWidth, f32, mask);
    Value sin = kb.loadF32(table, {position, kb.index(1), kb.index(c)},
                           kVectorWidth, f32, mask);
    Value swapped = vector::ShuffleOp::create(b, loc, v, v, swap);
    Value rotated = kb.fma(swapped, sin, arith::MulFOp::create(b, loc, v, cos));
    kb.storeF32(rotated, out, shifted(outIndices), mask);
  }
}

FailureOr<func::FuncOp> lathe::cpu::buildRope(OpBuilder &outer, Location loc,
                                              StringRef name,
                                              const RopeSpec &s,
                        const CpuDescription &) {
  MLIRContext *context = outer.getContext();
  AffineExpr one = getAffineConstantExpr(1, context);
  KernelBuilder kb(outer, loc, name, "rope", kernelInterface(s),
                   {getAffineSymbolExpr(0, context), one, one});
  OpBuilder &b = kb.builder();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  Value x = kb.binding(0, {dyn, s.rowStride}, b.getF32Type(), m);
  Value positions = kb.binding(1, {dyn}, b.getI32Type(), m);
  Value table = kb.binding(2, {s.tableRows, 2, s.dims}, b.getF32Type());
  Value row = kb.workgroupId(0);
  Value position = kb.loadIndex(positions, {row});
  for (int64_t h = 0; h < s.heads; ++h) {
    Value col = kb.index(h * s.headStride + s.offset);
    emitRopeRotation(kb, x, {row, col}, table, position, s.dims, x, {row, col});
  }
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildKVAppend(OpBuilder &outer,
                                                  Location loc, StringRef name,
                                                  const KVAppendSpec &s,
                        const CpuDescription &) {
  MLIRContext *context = outer.getContext();
  AffineExpr one = getAffineConstantExpr(1, context);
  KernelBuilder kb(outer, loc, name, "kv_cache", kernelInterface(s),
                   {getAffineSymbolExpr(0, context), one, one});
  OpBuilder &b = kb.builder();
  const int64_t dyn = ShapedType::kDynamic, width = s.rank + s.ropeDims;
  Type f32 = b.getF32Type();
  Value m = kb.scalar(0), tokens = kb.scalar(1);
  Value kv = kb.binding(0, {dyn, width}, f32, m);
  Value norm = kb.binding(1, {s.rank}, s.normType);
  Value positions = kb.binding(2, {dyn}, b.getI32Type(), m);
  Value table = kb.binding(3, {s.tableRows, 2, s.ropeDims}, f32);
  Value cache = kb.binding(4, {s.maxBatch, s.maxSeqLen, width}, f32);

  Value token = kb.workgroupId(0);
  Value row = kb.div(token, tokens);
  Value position = kb.loadIndex(positions, {token});
  auto slice = [&](Value memref, ArrayRef<OpFoldResult> offsets,
                   ArrayRef<int64_t> sizes3, ArrayRef<int64_t> resultShape) {
    SmallVector<OpFoldResult> sizes, strides(offsets.size(), b.getIndexAttr(1));
    for (int64_t size : sizes3)
      sizes.push_back(b.getIndexAttr(size));
    auto type = memref::SubViewOp::inferRankReducedResultType(
        resultShape, cast<MemRefType>(memref.getType()), offsets, sizes, strides);
    return memref::SubViewOp::create(b, loc, cast<MemRefType>(type), memref,
                                     offsets, sizes, strides);
  };
  Value latent = slice(kv, {token, b.getIndexAttr(0)}, {1, s.rank}, {1, s.rank});
  Value cached = slice(cache, {row, position, b.getIndexAttr(0)},
                       {1, 1, s.rank}, {1, s.rank});
  emitRmsNormRow(kb, latent, norm, cached, s.eps);
  emitRopeRotation(kb, kv, {token, kb.index(s.rank)}, table, position,
                   s.ropeDims, cache, {row, position, kb.index(s.rank)});
  return kb.getFunction();
}

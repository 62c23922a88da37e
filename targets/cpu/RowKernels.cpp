//===- RowKernels.cpp - row-wise kernels in linalg on tensors -------------===//
//
// Embedding, RMS norm, residual add, last-position gather and the MoE
// combine touch each row of their output once: a workgroup takes one row,
// views its slices of the bindings as tensors, computes them with
// linalg.generic, and materializes the result into its output row. The
// code generator bufferizes them in place and vectorizes the static-shaped
// generics (targets/cpu/Pipeline.cpp), so these stay declarative.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Generators.h"
#include "targets/cpu/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

using utils::IteratorType;

std::array<AffineExpr, 3> gridOverScalar(MLIRContext *context) {
  AffineExpr one = getAffineConstantExpr(1, context);
  return {getAffineSymbolExpr(0, context), one, one};
}

/// Rows [row, row + rows) and columns [col, col + cols) of a 2-D memref.
Value rowsView(KernelBuilder &kb, Value memref, Value row, int64_t rows,
               int64_t col, int64_t cols) {
  OpBuilder &b = kb.builder();
  SmallVector<OpFoldResult> offsets = {row, b.getIndexAttr(col)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(rows), b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  return memref::SubViewOp::create(b, kb.getLoc(), memref, offsets, sizes,
                                   strides);
}

Value rowView(KernelBuilder &kb, Value memref, Value row, int64_t col,
              int64_t cols) {
  return rowsView(kb, memref, row, 1, col, cols);
}

/// The tensor a kernel computes with, from a view it reads (or, `writable`,
/// writes in place).
Value asTensor(KernelBuilder &kb, Value memref, bool writable = false) {
  auto type = cast<MemRefType>(memref.getType());
  auto tensorType = RankedTensorType::get(type.getShape(), type.getElementType());
  return bufferization::ToTensorOp::create(kb.builder(), kb.getLoc(), tensorType,
                                           memref, /*restrict=*/true, writable);
}

void storeTensor(KernelBuilder &kb, Value tensor, Value memref) {
  auto op = bufferization::MaterializeInDestinationOp::create(
      kb.builder(), kb.getLoc(), tensor, memref);
  op.setRestrict(true);
  op.setWritable(true);
}

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// linalg.generic over `iterators` computing one tensor like `init` from
/// `inputs`; `body` gets the input elements and the current output element.
Value genericOn(KernelBuilder &kb, ValueRange inputs, ArrayRef<AffineMap> maps,
                ArrayRef<IteratorType> iterators, Value init, BodyFn body) {
  auto op = linalg::GenericOp::create(
      kb.builder(), kb.getLoc(), TypeRange{init.getType()}, inputs,
      ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        linalg::YieldOp::create(nested, loc, body(nested, loc, args));
      });
  return op.getResult(0);
}

/// genericOn whose result is written in place into the view `out`.
void generic(KernelBuilder &kb, ValueRange inputs, ArrayRef<AffineMap> maps,
             ArrayRef<IteratorType> iterators, Value out, BodyFn body) {
  Value init = asTensor(kb, out, /*writable=*/true);
  storeTensor(kb, genericOn(kb, inputs, maps, iterators, init, body), out);
}

Value widen(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isF32())
    return value;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

} // namespace

void lathe::cpu::emitRmsNormRow(KernelBuilder &kb, Value src, Value weight,
                                Value dst, double eps) {
  OpBuilder &b = kb.builder();
  Location loc = kb.getLoc();
  MLIRContext *context = b.getContext();
  const int64_t dim = cast<MemRefType>(src.getType()).getDimSize(1);
  AffineExpr d0 = getAffineDimExpr(0, context), d1 = getAffineDimExpr(1, context);
  auto rowMap = AffineMap::get(2, 0, {d0, d1}, context);
  auto perRow = AffineMap::get(2, 0, {d0}, context);
  auto perCol = AffineMap::get(2, 0, {d1}, context);

  // Sum of squares into a 1-element scratch the bufferizer puts on the stack.
  Value x = asTensor(kb, src);
  Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{1},
                                        b.getF32Type());
  Value sum = linalg::FillOp::create(b, loc, ValueRange{kb.f32(0.0)},
                                     ValueRange{empty})
                  .getResult(0);
  sum = linalg::GenericOp::create(
            b, loc, TypeRange{sum.getType()}, ValueRange{x}, ValueRange{sum},
            ArrayRef<AffineMap>{rowMap, perRow},
            ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::reduction},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value square = arith::MulFOp::create(nb, l, args[0], args[0]);
              linalg::YieldOp::create(
                  nb, l, ValueRange{arith::AddFOp::create(nb, l, args[1], square)});
            })
            .getResult(0);
  // 1 / rms once per row, so that the row is scaled by multiplications.
  Value total = tensor::ExtractOp::create(b, loc, sum, ValueRange{kb.index(0)});
  Value mean = arith::DivFOp::create(b, loc, total, kb.f32(dim));
  Value rms = math::SqrtOp::create(
      b, loc, arith::AddFOp::create(b, loc, mean, kb.f32(eps)));
  Value inverse = arith::DivFOp::create(b, loc, kb.f32(1.0), rms);
  Value w = asTensor(kb, weight);
  generic(kb, {x, w}, {rowMap, perCol, rowMap},
          {IteratorType::parallel, IteratorType::parallel}, dst,
          [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
            Value normed = arith::MulFOp::create(nb, l, args[0], inverse);
            return arith::MulFOp::create(nb, l, normed, widen(nb, l, args[1]));
          });
}

FailureOr<func::FuncOp> lathe::cpu::buildEmbedding(OpBuilder &outer,
                                                   Location loc, StringRef name,
                                                   const EmbeddingSpec &s,
                        const CpuDescription &) {
  KernelBuilder kb(outer, loc, name, "embedding", kernelInterface(s),
                   gridOverScalar(outer.getContext()));
  OpBuilder &b = kb.builder();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  Value tokens = kb.binding(0, {dyn}, b.getI32Type(), m);
  Value table = kb.binding(1, {s.vocab, s.dim}, s.tableType);
  Value out = kb.binding(2, {dyn, s.dim}, b.getF32Type(), m);
  Value row = kb.workgroupId(0);
  Value token = kb.loadIndex(tokens, {row});
  auto identity = b.getMultiDimIdentityMap(2);
  generic(kb, {asTensor(kb, rowView(kb, table, token, 0, s.dim))},
          {identity, identity}, {IteratorType::parallel, IteratorType::parallel},
          rowView(kb, out, row, 0, s.dim),
          [](OpBuilder &nb, Location l, ValueRange args) {
            return widen(nb, l, args[0]);
          });
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildRmsNorm(OpBuilder &outer, Location loc,
                                                 StringRef name,
                                                 const RmsNormSpec &s,
                        const CpuDescription &) {
  KernelBuilder kb(outer, loc, name, "rms_norm", kernelInterface(s),
                   gridOverScalar(outer.getContext()));
  OpBuilder &b = kb.builder();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  Value in = kb.binding(0, {dyn, s.inStride}, b.getF32Type(), m);
  Value weight = kb.binding(1, {s.dim}, s.weightType);
  Value out = kb.binding(2, {dyn, s.dim}, b.getF32Type(), m);
  Value row = kb.workgroupId(0);
  emitRmsNormRow(kb, rowView(kb, in, row, s.inOffset, s.dim), weight,
                 rowView(kb, out, row, 0, s.dim), s.eps);
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildAdd(OpBuilder &outer, Location loc,
                                             StringRef name, const AddSpec &s,
                        const CpuDescription &) {
  KernelBuilder kb(outer, loc, name, "add", kernelInterface(s),
                   gridOverScalar(outer.getContext()));
  OpBuilder &b = kb.builder();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  Value row = kb.workgroupId(0);
  SmallVector<Value> views;
  for (int64_t i = 0; i < 3; ++i)
    views.push_back(
        rowView(kb, kb.binding(i, {dyn, s.dim}, b.getF32Type(), m), row, 0, s.dim));
  auto identity = b.getMultiDimIdentityMap(2);
  generic(kb, {asTensor(kb, views[0]), asTensor(kb, views[1])},
          {identity, identity, identity},
          {IteratorType::parallel, IteratorType::parallel}, views[2],
          [](OpBuilder &nb, Location l, ValueRange args) -> Value {
            return arith::AddFOp::create(nb, l, args[0], args[1]);
          });
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildGatherLast(OpBuilder &outer,
                                                    Location loc, StringRef name,
                                                    const GatherLastSpec &s,
                        const CpuDescription &) {
  KernelBuilder kb(outer, loc, name, "gather", kernelInterface(s),
                   gridOverScalar(outer.getContext()));
  OpBuilder &b = kb.builder();
  const int64_t dyn = ShapedType::kDynamic;
  Value batch = kb.scalar(0), tokens = kb.scalar(1);
  Value in = kb.binding(0, {dyn, s.dim}, b.getF32Type(), kb.mul(batch, tokens));
  Value out = kb.binding(1, {dyn, s.dim}, b.getF32Type(), batch);
  Value row = kb.workgroupId(0);
  Value last = kb.sub(kb.mul(kb.add(row, kb.index(1)), tokens), kb.index(1));
  auto identity = b.getMultiDimIdentityMap(2);
  generic(kb, {asTensor(kb, rowView(kb, in, last, 0, s.dim))}, {identity, identity},
          {IteratorType::parallel, IteratorType::parallel},
          rowView(kb, out, row, 0, s.dim),
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  return kb.getFunction();
}

FailureOr<func::FuncOp> lathe::cpu::buildMoECombine(OpBuilder &outer,
                                                    Location loc, StringRef name,
                                                    const MoECombineSpec &s,
                        const CpuDescription &) {
  KernelBuilder kb(outer, loc, name, "moe_combine", kernelInterface(s),
                   gridOverScalar(outer.getContext()));
  OpBuilder &b = kb.builder();
  MLIRContext *context = b.getContext();
  const int64_t dyn = ShapedType::kDynamic;
  Value m = kb.scalar(0);
  Value pairs = kb.binding(0, {dyn, s.dim}, b.getF32Type(), kb.mul(m, kb.index(s.topk)));
  Value shared = s.shared ? kb.binding(1, {dyn, s.dim}, b.getF32Type(), m) : Value();
  Value out = kb.binding(s.shared ? 2 : 1, {dyn, s.dim}, b.getF32Type(), m);
  Value row = kb.workgroupId(0);
  Value outRow = rowView(kb, out, row, 0, s.dim);

  // out = shared (or 0), then out += each of the row's top-k expert outputs.
  auto identity = b.getMultiDimIdentityMap(2);
  SmallVector<IteratorType> parallel2 = {IteratorType::parallel,
                                        IteratorType::parallel};
  Value acc = asTensor(kb, outRow, /*writable=*/true);
  if (s.shared)
    acc = genericOn(kb, {asTensor(kb, rowView(kb, shared, row, 0, s.dim))},
                    {identity, identity}, parallel2, acc,
                    [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  else
    acc = linalg::FillOp::create(b, loc, ValueRange{kb.f32(0.0)}, ValueRange{acc})
              .getResult(0);
  // (d0, d1, d2) = (row of out, expert slot, column).
  AffineExpr d0 = getAffineDimExpr(0, context), d1 = getAffineDimExpr(1, context),
             d2 = getAffineDimExpr(2, context);
  Value expertRows =
      rowsView(kb, pairs, kb.mul(row, kb.index(s.topk)), s.topk, 0, s.dim);
  acc = genericOn(kb, {asTensor(kb, expertRows)},
                  {AffineMap::get(3, 0, {d1, d2}, context),
                   AffineMap::get(3, 0, {d0, d2}, context)},
                  {IteratorType::parallel, IteratorType::reduction,
                   IteratorType::parallel},
                  acc, [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return arith::AddFOp::create(nb, l, args[1], args[0]);
                  });
  storeTensor(kb, acc, outRow);
  return kb.getFunction();
}

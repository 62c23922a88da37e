//===- KernelBuilder.cpp - what every CPU kernel generator uses -----------===//

#include "targets/cpu/KernelBuilder.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

KernelBuilder::KernelBuilder(OpBuilder &outer, Location loc, StringRef name,
                             StringRef family, KernelInterface interface,
                             std::array<AffineExpr, 3> grid)
    : b(outer.getContext()), loc(loc) {
  MLIRContext *context = outer.getContext();
  auto map = AffineMap::get(/*dimCount=*/0, interface.scalars, grid, context);
  func = func::FuncOp::create(outer, loc, name, outer.getFunctionType({}, {}));
  func->setAttr(kKernelAttrName,
                KernelAttr::get(context, family, interface.buffers,
                                interface.scalars, AffineMapAttr::get(map)));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  auto ret = func::ReturnOp::create(b, loc);
  b.setInsertionPoint(ret);
}

//===----------------------------------------------------------------------===//
// Interface
//===----------------------------------------------------------------------===//

Value KernelBuilder::scalar(int64_t index) {
  return ScalarOp::create(b, loc, b.getIndexType(), index);
}

Value KernelBuilder::workgroupId(int64_t dimension) {
  return WorkgroupIdOp::create(b, loc, b.getIndexType(), dimension);
}

Value KernelBuilder::binding(int64_t index, ArrayRef<int64_t> shape,
                             Type elementType, ValueRange dynamicSizes) {
  auto type = MemRefType::get(shape, elementType);
  return BindingOp::create(b, loc, type, index, dynamicSizes);
}

Value KernelBuilder::tableEntry(int64_t index, Value entry,
                                ArrayRef<int64_t> shape, Type elementType) {
  auto type = MemRefType::get(shape, elementType);
  return BindingTableOp::create(b, loc, type, index, entry, ValueRange());
}

Type KernelBuilder::storageType(const WeightFormat &format) {
  if (format.isFP8())
    return IntegerType::get(format.elementType.getContext(), 8);
  return format.elementType;
}

//===----------------------------------------------------------------------===//
// Constants and index arithmetic
//===----------------------------------------------------------------------===//

Value KernelBuilder::index(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value KernelBuilder::f32(double value) {
  return arith::ConstantOp::create(b, loc,
                                   b.getF32FloatAttr(static_cast<float>(value)));
}

Value KernelBuilder::i32(int64_t value) {
  return arith::ConstantIntOp::create(b, loc, value, 32);
}

Value KernelBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value KernelBuilder::sub(Value x, Value y) {
  return arith::SubIOp::create(b, loc, x, y);
}
Value KernelBuilder::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
Value KernelBuilder::div(Value x, Value y) {
  return arith::DivUIOp::create(b, loc, x, y);
}
Value KernelBuilder::rem(Value x, Value y) {
  return arith::RemUIOp::create(b, loc, x, y);
}
Value KernelBuilder::min(Value x, Value y) {
  return arith::MinUIOp::create(b, loc, x, y);
}
Value KernelBuilder::max(Value x, Value y) {
  return arith::MaxUIOp::create(b, loc, x, y);
}
Value KernelBuilder::lt(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
}

Value KernelBuilder::loadIndex(Value memref, ValueRange indices) {
  Value value = memref::LoadOp::create(b, loc, memref, indices);
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), value);
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

void KernelBuilder::forLoop(Value lb, Value ub, Value step,
                            const LoopBody &body) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

void KernelBuilder::forLoop(int64_t lb, int64_t ub, int64_t step,
                            const LoopBody &body) {
  forLoop(index(lb), index(ub), index(step), body);
}

SmallVector<Value> KernelBuilder::forLoop(Value lb, Value ub, Value step,
                                          ValueRange init,
                                          const CarriedBody &body) {
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, step, init,
      [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> next = body(iv, carried);
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

void KernelBuilder::ifThen(Value condition, const std::function<void()> &then) {
  auto op = scf::IfOp::create(b, loc, condition, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.thenBlock()->getTerminator());
  then();
}

void KernelBuilder::ifThenElse(Value condition,
                               const std::function<void()> &then,
                               const std::function<void()> &otherwise) {
  auto op = scf::IfOp::create(b, loc, condition, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op.thenBlock()->getTerminator());
  then();
  b.setInsertionPoint(op.elseBlock()->getTerminator());
  otherwise();
}

//===----------------------------------------------------------------------===//
// Vectors
//===----------------------------------------------------------------------===//

VectorType KernelBuilder::vectorType(int64_t width, Type elementType) {
  return VectorType::get({width}, elementType ? elementType : b.getF32Type());
}

Value KernelBuilder::zeros(int64_t width) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType(width), b.getF32FloatAttr(0)));
}

Value KernelBuilder::splat(Value scalar, int64_t width) {
  return vector::BroadcastOp::create(b, loc,
                                     vectorType(width, scalar.getType()), scalar);
}

Value KernelBuilder::mask(int64_t width, Value count) {
  return vector::CreateMaskOp::create(
      b, loc, VectorType::get({width}, b.getI1Type()), ValueRange{count});
}

Value KernelBuilder::mask(int64_t width, int64_t count) {
  return mask(width, index(count));
}

Value lathe::cpu::decodeFP8(OpBuilder &b, Location loc, Value codes,
                            Type fp8Type) {
  Type type = codes.getType();
  auto withElement = [&](Type element) -> Type {
    if (auto vector = dyn_cast<VectorType>(type))
      return vector.clone(element);
    return element;
  };
  auto constant = [&](Type element, Attribute value) -> Value {
    Type full = withElement(element);
    if (auto vector = dyn_cast<VectorType>(full))
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vector, value));
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(value));
  };
  Type f32 = b.getF32Type();
  if (isa<Float8E5M2Type>(fp8Type)) {
    // e5m2 is the top byte of an f16.
    Type i16 = b.getI16Type();
    Value wide = arith::ExtUIOp::create(b, loc, withElement(i16), codes);
    Value bits = arith::ShLIOp::create(
        b, loc, wide, constant(i16, b.getIntegerAttr(i16, 8)));
    Value half = arith::BitcastOp::create(b, loc, withElement(b.getF16Type()),
                                          bits);
    return arith::ExtFOp::create(b, loc, withElement(f32), half);
  }
  // e4m3fn: moving exponent and mantissa to the top of an f32's and
  // rescaling by 2^(127 - 7) is exact for normals and subnormals alike;
  // 0x7f is NaN (there are no infinities).
  Type i32 = b.getI32Type();
  auto i32Const = [&](int64_t v) {
    return constant(i32, b.getIntegerAttr(i32, v));
  };
  Value wide = arith::ExtUIOp::create(b, loc, withElement(i32), codes);
  Value magnitude = arith::AndIOp::create(b, loc, wide, i32Const(0x7f));
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, wide, i32Const(0x80)), i32Const(24));
  Value shifted = arith::ShLIOp::create(b, loc, magnitude, i32Const(20));
  Value value = arith::MulFOp::create(
      b, loc, arith::BitcastOp::create(b, loc, withElement(f32), shifted),
      constant(f32, b.getF32FloatAttr(std::ldexp(1.0f, 120))));
  Value isNaN = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      magnitude, i32Const(0x7f));
  value = arith::SelectOp::create(
      b, loc, isNaN,
      constant(f32, b.getF32FloatAttr(std::numeric_limits<float>::quiet_NaN())),
      value);
  Value bits = arith::OrIOp::create(
      b, loc, arith::BitcastOp::create(b, loc, withElement(i32), value), sign);
  return arith::BitcastOp::create(b, loc, withElement(f32), bits);
}

Value lathe::cpu::decodeFP8ViaF16(OpBuilder &b, Location loc, Value codes,
                                  Type fp8Type) {
  auto type = cast<VectorType>(codes.getType());
  if (!isa<Float8E4M3FNType>(fp8Type)) {
    // e5m2 is already the top byte of an f16: no rescaling to undo.
    Value exact = decodeFP8(b, loc, codes, fp8Type);
    Value factor = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            type.clone(b.getF32Type()),
            b.getF32FloatAttr(static_cast<float>(1.0 / kFP8ViaF16Correction))));
    return arith::MulFOp::create(b, loc, exact, factor);
  }
  VectorType i16 = type.clone(b.getI16Type());
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(i16, b.getI16IntegerAttr(value)));
  };
  // s eeee mmm -> s 0 eeee mmm 0000000: sign-extended to 16 bits and
  // shifted left by 7, a negative code has its sign in bits 15 and 14;
  // clearing bit 14 leaves the f16.
  Value wide = arith::ExtSIOp::create(b, loc, i16, codes);
  Value shifted = arith::ShLIOp::create(b, loc, wide, constant(7));
  Value bits = arith::AndIOp::create(b, loc, shifted, constant(0xBFFF));
  Value half = arith::BitcastOp::create(b, loc, type.clone(b.getF16Type()),
                                        bits);
  return arith::ExtFOp::create(b, loc, type.clone(b.getF32Type()), half);
}

Value KernelBuilder::loadF32(Value memref, ValueRange indices, int64_t width,
                             Type stored, Value maskValue) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  VectorType raw = vectorType(width, element);
  Value loaded;
  if (maskValue) {
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(raw, b.getZeroAttr(element)));
    loaded =
        vector::MaskedLoadOp::create(b, loc, raw, memref, indices, maskValue, zero);
  } else {
    loaded = vector::LoadOp::create(b, loc, raw, memref, indices);
  }
  if (isa<Float8E4M3FNType, Float8E5M2Type>(stored))
    return decodeFP8(b, loc, loaded, stored);
  if (element.isF32())
    return loaded;
  return arith::ExtFOp::create(b, loc, vectorType(width), loaded);
}

void KernelBuilder::storeF32(Value vector, Value memref, ValueRange indices,
                             Value maskValue) {
  if (maskValue)
    vector::MaskedStoreOp::create(b, loc, memref, indices, maskValue, vector);
  else
    vector::StoreOp::create(b, loc, vector, memref, indices);
}

Value KernelBuilder::fma(Value x, Value y, Value acc) {
  // vector.fma becomes llvm.fmuladd: fused where the CPU can. A scalar one
  // is a contractable multiply-add rather than math.fma, whose llvm.fma is
  // a call to fmaf where the CPU has no FMA (--cpu=x86-64-v2).
  if (isa<VectorType>(x.getType()))
    return vector::FMAOp::create(b, loc, x, y, acc);
  auto contract = arith::FastMathFlags::contract;
  Value product = arith::MulFOp::create(b, loc, x, y, contract);
  return arith::AddFOp::create(b, loc, product, acc, contract);
}

Value KernelBuilder::reduceAdd(Value vector) {
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, vector);
}

SmallVector<Value> KernelBuilder::reduceAddPacked(ValueRange vectors) {
  SmallVector<Value> packed;
  if (vectors.empty())
    return packed;
  const int64_t width = cast<VectorType>(vectors[0].getType()).getNumElements();
  for (size_t first = 0; first < vectors.size(); first += width) {
    SmallVector<Value> level(
        vectors.begin() + first,
        vectors.begin() + std::min<size_t>(first + width, vectors.size()));
    // Each vector of `level` holds width / part segments of `part` partial
    // sums, one segment per input vector, in order.
    for (int64_t part = width; part > 1; part /= 2) {
      const int64_t half = part / 2;
      SmallVector<Value> next;
      for (size_t i = 0; i < level.size(); i += 2) {
        Value a = level[i], c = i + 1 < level.size() ? level[i + 1] : a;
        SmallVector<int64_t> low, high;
        for (int64_t source : {int64_t(0), width})
          for (int64_t segment = 0; segment < width; segment += part)
            for (int64_t e = 0; e < half; ++e) {
              low.push_back(source + segment + e);
              high.push_back(source + segment + half + e);
            }
        next.push_back(arith::AddFOp::create(
            b, loc, vector::ShuffleOp::create(b, loc, a, c, low),
            vector::ShuffleOp::create(b, loc, a, c, high)));
      }
      level = std::move(next);
    }
    packed.push_back(level[0]);
  }
  return packed;
}

SmallVector<Value> KernelBuilder::reduceAddEach(ValueRange vectors) {
  SmallVector<Value> sums;
  if (vectors.empty())
    return sums;
  const int64_t width = cast<VectorType>(vectors[0].getType()).getNumElements();
  SmallVector<Value> packed = reduceAddPacked(vectors);
  for (size_t i = 0; i < vectors.size(); ++i)
    sums.push_back(vector::ExtractOp::create(b, loc, packed[i / width],
                                             int64_t(i % width)));
  return sums;
}

Value KernelBuilder::reduceMax(Value vector) {
  return vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXNUMF,
                                     vector);
}

Value KernelBuilder::exp(Value x) { return math::ExpOp::create(b, loc, x); }

static Value floatConstantLike(OpBuilder &b, Location loc, Value like,
                               double value) {
  auto attr = b.getF32FloatAttr(static_cast<float>(value));
  if (auto vector = dyn_cast<VectorType>(like.getType()))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vector, attr));
  return arith::ConstantOp::create(b, loc, attr);
}

Value KernelBuilder::sigmoid(Value x) {
  Value one = floatConstantLike(b, loc, x, 1.0);
  Value negExp = exp(arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, negExp));
}

Value KernelBuilder::silu(Value x) {
  Value one = floatConstantLike(b, loc, x, 1.0);
  Value negExp = exp(arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, x,
                               arith::AddFOp::create(b, loc, one, negExp));
}

//===- KernelBuilder.h - what every CPU kernel generator uses ---*- C++ -*-===//
//
// A kernel function is built inside-out: the builder creates
// `func.func @name() attributes {lathe.kernel = ...}` and leaves the
// insertion point in its body; generators read the launch's interface
// (bindings, scalars, workgroup ids) and emit scf loops over vector code.
// The helpers below keep generators to what their family computes: loads
// that widen any stored weight type to f32 vectors, masked tails, loops
// with carried values.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_KERNELBUILDER_H
#define LATHE_TARGETS_CPU_KERNELBUILDER_H

#include "targets/KernelSpecs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <array>
#include <functional>

namespace lathe::cpu {

/// f32 lanes of one vector register: AVX-512 holds 16.
constexpr int64_t kVectorWidth = 16;

class KernelBuilder {
public:
  /// Starts kernel `name` of `family` at `outer`'s insertion point, whose
  /// grid is `grid` (3 expressions over the kernel's scalars s0, s1, ...).
  KernelBuilder(mlir::OpBuilder &outer, mlir::Location loc,
                llvm::StringRef name, llvm::StringRef family,
                KernelInterface interface, std::array<mlir::AffineExpr, 3> grid);

  mlir::func::FuncOp getFunction() { return func; }
  mlir::OpBuilder &builder() { return b; }
  mlir::Location getLoc() { return loc; }

  // -- The launch's interface ----------------------------------------------
  mlir::Value scalar(int64_t index);
  mlir::Value workgroupId(int64_t dimension);
  /// Buffer `index` as a row-major memref of `shape` (ShapedType::kDynamic
  /// for each dim given in `dynamicSizes`).
  mlir::Value binding(int64_t index, llvm::ArrayRef<int64_t> shape,
                      mlir::Type elementType,
                      mlir::ValueRange dynamicSizes = {});
  /// Entry `entry` of the table passed as buffer `index`.
  mlir::Value tableEntry(int64_t index, mlir::Value entry,
                         llvm::ArrayRef<int64_t> shape, mlir::Type elementType);
  /// How a weight of `format` is bound: FP8 codes as i8 bytes.
  static mlir::Type storageType(const WeightFormat &format);

  // -- Constants and index arithmetic --------------------------------------
  mlir::Value index(int64_t value);
  mlir::Value f32(double value);
  mlir::Value i32(int64_t value);
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b); // unsigned index division
  mlir::Value rem(mlir::Value a, mlir::Value b);
  mlir::Value min(mlir::Value a, mlir::Value b);
  mlir::Value max(mlir::Value a, mlir::Value b); // unsigned
  mlir::Value lt(mlir::Value a, mlir::Value b); // unsigned index compare
  /// An i32 loaded from memory, as an index.
  mlir::Value loadIndex(mlir::Value memref, mlir::ValueRange indices);

  // -- Control flow ----------------------------------------------------------
  using LoopBody = std::function<void(mlir::Value iv)>;
  using CarriedBody = std::function<llvm::SmallVector<mlir::Value>(
      mlir::Value iv, mlir::ValueRange carried)>;
  void forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
               const LoopBody &body);
  void forLoop(int64_t lb, int64_t ub, int64_t step, const LoopBody &body);
  llvm::SmallVector<mlir::Value> forLoop(mlir::Value lb, mlir::Value ub,
                                         mlir::Value step,
                                         mlir::ValueRange init,
                                         const CarriedBody &body);
  void ifThen(mlir::Value condition, const std::function<void()> &then);
  void ifThenElse(mlir::Value condition, const std::function<void()> &then,
                  const std::function<void()> &otherwise);

  // -- Vectors ---------------------------------------------------------------
  mlir::VectorType vectorType(int64_t width,
                              mlir::Type elementType = mlir::Type());
  mlir::Value zeros(int64_t width);
  mlir::Value splat(mlir::Value scalar, int64_t width);
  /// `width` contiguous elements at `indices` (the last index moves), of a
  /// memref storing `stored` (an FP8 type for i8-bound codes), widened to
  /// f32. With `mask` (a vector<width x i1>), masked-off lanes read 0 and
  /// touch no memory.
  mlir::Value loadF32(mlir::Value memref, mlir::ValueRange indices,
                      int64_t width, mlir::Type stored,
                      mlir::Value mask = mlir::Value());
  void storeF32(mlir::Value vector, mlir::Value memref,
                mlir::ValueRange indices, mlir::Value mask = mlir::Value());
  /// Lanes [0, count) set.
  mlir::Value mask(int64_t width, mlir::Value count);
  mlir::Value mask(int64_t width, int64_t count);
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value acc);
  mlir::Value reduceAdd(mlir::Value vector);
  /// The sums of several vectors of one width W: groups of up to W become
  /// one vector of their sums in order (a tree of shuffles and adds, each
  /// level halving every vector's partial sums and pairing vectors, about
  /// 3 ops per sum instead of a reduction's log2(W) shuffle-add pairs).
  llvm::SmallVector<mlir::Value> reduceAddPacked(mlir::ValueRange vectors);
  /// The same as scalars.
  llvm::SmallVector<mlir::Value> reduceAddEach(mlir::ValueRange vectors);
  mlir::Value reduceMax(mlir::Value vector);
  /// e^x of an f32 scalar or vector.
  mlir::Value exp(mlir::Value x);
  /// x * sigmoid(x) and 1 / (1 + e^-x).
  mlir::Value silu(mlir::Value x);
  mlir::Value sigmoid(mlir::Value x);

private:
  mlir::OpBuilder b;
  mlir::Location loc;
  mlir::func::FuncOp func;
};

/// The f32 value of FP8 codes held as integers (vector or scalar of i8):
/// exact, including subnormals and NaN (e4m3fn) or infinities (e5m2).
mlir::Value decodeFP8(mlir::OpBuilder &b, mlir::Location loc, mlir::Value codes,
                      mlir::Type fp8Type);

/// What decodeFP8ViaF16's results are to be multiplied by.
constexpr double kFP8ViaF16Correction = 256.0;

/// The f32 value of e4m3fn codes (a vector of i8) divided by 2^8, widened
/// through f16 with F16C: the codes' exponent and mantissa bits become an
/// f16's, subnormals included. Three integer ops and a conversion instead
/// of decodeFP8's ten. NaN codes (0x7f, 0xff), which no FP8 checkpoint
/// holds, give +-480 / 2^8. e5m2 codes take decodeFP8.
mlir::Value decodeFP8ViaF16(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value codes, mlir::Type fp8Type);

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_KERNELBUILDER_H

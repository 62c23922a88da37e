//===- KernelSpecs.h - what a kernel computes, for every target -*- C++ -*-===//
//
// Lowering to kernels (compiler/LowerToKernels) decides which kernels a
// graph needs and which buffers each launch passes; a target decides how
// each kernel computes its part. A spec is that contract: a kernel family's
// static parameters and the interface (buffers and scalars, in order) of
// its launches. Each target builds its kernel body from a spec; the same
// spec gives the same name on every target.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_KERNELSPECS_H
#define LATHE_TARGETS_KERNELSPECS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Types.h"

#include <array>
#include <optional>
#include <string>
#include <variant>

namespace lathe {

/// How a weight is stored: its element type and, for FP8, the block of its
/// scales ([rows, cols]: one f32 scale per block, passed as the buffer after
/// the weight).
struct WeightFormat {
  mlir::Type elementType;
  std::optional<std::array<int64_t, 2>> block;

  bool isFP8() const;
  /// "bf16", "f32", "f8e4m3b128x128".
  std::string mnemonic() const;
};

/// out[m, :] = f32(table[tokens[m], :]).
/// Buffers: tokens i32 [M], table [vocab, dim], out f32 [M, dim]. Scalars: M.
struct EmbeddingSpec {
  int64_t vocab, dim;
  mlir::Type tableType;
};

/// out[m, :] = x / sqrt(mean(x^2) + eps) * weight, x = in[m, offset:offset+dim].
/// Buffers: in f32 [M, inStride], weight [dim], out f32 [M, dim]. Scalars: M.
struct RmsNormSpec {
  int64_t dim, inStride, inOffset;
  mlir::Type weightType;
  double eps;
};

/// out = lhs + rhs. Buffers: lhs, rhs, out f32 [M, dim]. Scalars: M.
struct AddSpec {
  int64_t dim;
};

/// out[b, :] = in[b * T + T - 1, :]: each row's last position.
/// Buffers: in f32 [B * T, dim], out f32 [B, dim]. Scalars: B, T.
struct GatherLastSpec {
  int64_t dim;
};

/// y = x · Wᵀ over rows of x, W [n, k] as stored.
///
/// Direct rows: y[m] = x[m] · Wᵀ for m < M.
///   Buffers: x f32 [M, k], W (, W scales), [swiglu: Wu (, Wu scales)],
///   y f32 [M, n]. Scalars: M.
/// Grouped rows (MoE experts): expert e owns entries [offsets[e],
/// offsets[e+1]) of `order`; for each such entry p = order[i],
/// y[p] = x[p / xRowDiv] · W_eᵀ (times rowWeights[p] if rowScale).
///   Buffers: x f32, W table (, scales table), [swiglu: Wu table (, scales
///   table)], offsets i32 [experts + 1], order i32 [P], [rowWeights f32 [P]],
///   y f32 [P, n]. Scalars: rows of x, P.
/// Grouped rows scattered (MoE down projection, scatterAdd; grouped and
/// rowScale, no swiglu; P a multiple of yRowDiv):
/// the pairs' products are added into token order,
/// y[p / yRowDiv] += rowWeights[p] · (x[p / xRowDiv] · W_eᵀ), each token's
/// row of y first set to init's (or to 0 without init). Deterministic: a
/// token's terms are added in expert order, whatever the thread count.
///   Buffers: x f32, W table (, scales table), offsets i32 [experts + 1],
///   order i32 [P], rowWeights f32 [P], [init f32 [P / yRowDiv, n]],
///   y f32 [P / yRowDiv, n]. Scalars: rows of x, P.
/// With swiglu, y = silu(x · Wᵀ) * (x · Wuᵀ).
struct GemmSpec {
  int64_t n, k;
  WeightFormat weight;
  bool swiglu = false;
  bool grouped = false;
  int64_t experts = 0;
  int64_t xRowDiv = 1;
  bool rowScale = false;
  bool scatterAdd = false;
  int64_t yRowDiv = 1;
  bool init = false;
};

/// Rotates pairs of dims [offset, offset + dims) of each of `heads` heads of
/// x[m] (head h starts at h * headStride) in place, by the RoPE table row of
/// positions[m]. Buffers: x f32 [M, rowStride], positions i32 [M], table f32
/// [tableRows, 2, dims]. Scalars: M.
struct RopeSpec {
  int64_t rowStride, heads, headStride, offset, dims, tableRows;
};

/// MLA's cache write: for token m of row b = m / T at p = positions[m],
/// cache[b, p, :rank] = rms_norm(kv[m, :rank]) * norm and
/// cache[b, p, rank:] = rope(kv[m, rank:], p).
/// Buffers: kv f32 [M, rank + ropeDims], norm [rank], positions i32 [M],
/// table f32 [tableRows, 2, ropeDims], cache f32 [maxBatch, maxSeqLen,
/// rank + ropeDims]. Scalars: M, T.
struct KVAppendSpec {
  int64_t rank, ropeDims, tableRows, maxBatch, maxSeqLen;
  mlir::Type normType;
  double eps;
};

/// MLA attention of token m (row b = m / T, position p = positions[m]) and
/// head h over cache[b, 0..p], in the absorbed form: q_lat = q_nope · W_UK[h],
/// scores = (q_lat · c_kv + q_pe · k_pe) * scale, o = softmax(scores) · c_kv
/// · W_UV[h]ᵀ, with W_UK/W_UV the rows of kv_b_proj.
/// Buffers: q f32 [M, heads * (nope + rope)], kv_b [heads * (nope + v), rank]
/// (, scales), positions i32 [M], cache f32 [maxBatch, maxSeqLen, rank +
/// rope], out f32 [M, heads * v]. Scalars: M, T.
struct MLAAttentionSpec {
  int64_t heads, nope, rope, v, rank, maxBatch, maxSeqLen;
  WeightFormat kvB;
  double scale;
};

/// The MoE router after its gate GEMM: scores, group-limited top-k, weights.
/// Buffers: logits f32 [M, experts], [bias [experts]], ids i32 [M, topk],
/// weights f32 [M, topk]. Scalars: M.
struct MoETopkSpec {
  int64_t experts, topk, groups, topkGroups;
  bool sigmoid, renormalize;
  std::optional<mlir::Type> biasType;
  double scaling;
};

/// The fused MoE router: logits = x · gateᵀ (gate [experts, hidden] as
/// stored, bf16, f16 or f32), then scoring, selection and weights as
/// MoETopkSpec `topk` says (topk.experts == the gate's rows).
/// Buffers: x f32 [M, hidden], gate [experts, hidden], [bias [experts]],
/// ids i32 [M, topk], weights f32 [M, topk]. Scalars: M.
struct MoERouterSpec {
  int64_t hidden;
  mlir::Type gateType;
  MoETopkSpec topk;
};

/// Groups token-expert pairs by expert (stable counting sort).
/// Buffers: ids i32 [P], offsets i32 [experts + 1], order i32 [P].
/// Scalars: P.
struct MoEPermuteSpec {
  int64_t experts;
};

/// out[m] = sum_j pairs[m * topk + j] (+ shared[m]).
/// Buffers: pairs f32 [M * topk, dim], [shared f32 [M, dim]], out f32 [M, dim].
/// Scalars: M.
struct MoECombineSpec {
  int64_t dim, topk;
  bool shared;
};

using KernelSpec =
    std::variant<EmbeddingSpec, RmsNormSpec, AddSpec, GatherLastSpec, GemmSpec,
                 RopeSpec, KVAppendSpec, MLAAttentionSpec, MoETopkSpec,
                 MoERouterSpec, MoEPermuteSpec, MoECombineSpec>;

/// The family name that bundles and reports show ("gemm", "rms_norm", ...).
llvm::StringRef kernelFamily(const KernelSpec &spec);
/// Readable and short: "gemm_n40_k64_bf16". Distinct specs may share it.
std::string kernelSummary(const KernelSpec &spec);
/// Exact: equal keys mean the same kernel.
std::string kernelKey(const KernelSpec &spec);

struct KernelInterface {
  int64_t buffers = 0, scalars = 0;
};
KernelInterface kernelInterface(const KernelSpec &spec);

/// A code generator for one device family.
class KernelTarget {
public:
  virtual ~KernelTarget();
  /// The name in --target and in bundles: "cpu", "sm_80", "sm_90a".
  virtual llvm::StringRef name() const = 0;
  /// Sets the attributes of a new target module (lathe.target and whatever
  /// code generation needs later: the CPU, its features).
  virtual void annotateModule(mlir::ModuleOp module) const = 0;
  /// Builds kernel `name` for `spec` at the builder's insertion point.
  virtual mlir::FailureOr<mlir::func::FuncOp>
  buildKernel(mlir::OpBuilder &builder, mlir::Location loc,
              llvm::StringRef name, const KernelSpec &spec) const = 0;
};

} // namespace lathe

#endif // LATHE_TARGETS_KERNELSPECS_H

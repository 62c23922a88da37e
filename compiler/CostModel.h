//===- CostModel.h - FLOPs and bytes of a model graph -----------*- C++ -*-===//
//
// `lathe-compile --print-cost`: what each layer of the graph costs, for a
// prefill of P tokens from an empty cache and for one decode step after C
// cached positions, per row of a batch — the numbers a researcher puts
// against a roofline. Counted from the graph ops the way lathe's kernels
// compute them (MLA absorbed over the latent cache, the MoE's top-k experts
// only), with weights at their stored size and the KV cache in f32.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_COSTMODEL_H
#define LATHE_COMPILER_COSTMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

/// FLOPs (a multiply-add is 2) and bytes read from memory.
struct Cost {
  double flops = 0;
  double weightBytes = 0;
  double cacheBytes = 0;

  Cost &operator+=(const Cost &other) {
    flops += other.flops;
    weightBytes += other.weightBytes;
    cacheBytes += other.cacheBytes;
    return *this;
  }
};

/// The cost of one part of the model (a layer, the embedding, the head).
struct PartCost {
  std::string name;
  /// A whole prefill of the prompt, and one decode step.
  Cost prefill, decode;
};

struct CostQuery {
  /// Prompt tokens of the prefill, and cached positions before the decode
  /// step.
  int64_t promptTokens = 128;
  int64_t contextTokens = 128;
};

/// The cost of the first graph function of `module` (phase input or
/// optimized), part by part; an error names the op it cannot count.
mlir::FailureOr<std::vector<PartCost>> modelCost(mlir::ModuleOp module,
                                                 const CostQuery &query);

/// A table of `parts` with totals and per-token figures.
void printCost(llvm::ArrayRef<PartCost> parts, const CostQuery &query,
               llvm::raw_ostream &os);

} // namespace lathe

#endif // LATHE_COMPILER_COSTMODEL_H

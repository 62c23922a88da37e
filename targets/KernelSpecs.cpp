//===- KernelSpecs.cpp - names and interfaces of kernel specs -------------===//

#include "targets/KernelSpecs.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace lathe;
using llvm::formatv;

KernelTarget::~KernelTarget() = default;

bool WeightFormat::isFP8() const { return lathe::isFP8(elementType); }

static std::string typeMnemonic(Type type) {
  if (isa<Float8E4M3FNType>(type))
    return "f8e4m3";
  if (isa<Float8E5M2Type>(type))
    return "f8e5m2";
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

std::string WeightFormat::mnemonic() const {
  std::string text = typeMnemonic(elementType);
  if (block)
    text += formatv("b{0}x{1}", (*block)[0], (*block)[1]).str();
  return text;
}

/// A double exactly, for keys: the hex float of its bits.
static std::string exact(double value) {
  return formatv("{0:x}", llvm::bit_cast<uint64_t>(value)).str();
}

namespace {

struct Namer {
  StringRef family(const EmbeddingSpec &) { return "embedding"; }
  StringRef family(const RmsNormSpec &) { return "rms_norm"; }
  StringRef family(const AddSpec &) { return "add"; }
  StringRef family(const GatherLastSpec &) { return "gather"; }
  /// Grouped GEMMs are the MoE experts' (gate/up with SwiGLU, down).
  StringRef family(const GemmSpec &s) {
    return s.grouped ? "moe_experts" : "gemm";
  }
  StringRef family(const RopeSpec &) { return "rope"; }
  StringRef family(const KVAppendSpec &) { return "kv_cache"; }
  StringRef family(const MLAAttentionSpec &) { return "mla_attention"; }
  StringRef family(const MoETopkSpec &) { return "moe_topk"; }
  StringRef family(const MoERouterSpec &) { return "moe_router"; }
  StringRef family(const MoEPermuteSpec &) { return "moe_permute"; }
  StringRef family(const MoECombineSpec &) { return "moe_combine"; }

  std::string summary(const EmbeddingSpec &s) {
    return formatv("embedding_v{0}_d{1}_{2}", s.vocab, s.dim,
                   typeMnemonic(s.tableType));
  }
  std::string summary(const RmsNormSpec &s) {
    return formatv("rms_norm_d{0}_{1}", s.dim, typeMnemonic(s.weightType));
  }
  std::string summary(const AddSpec &s) { return formatv("add_d{0}", s.dim); }
  std::string summary(const GatherLastSpec &s) {
    return formatv("gather_last_d{0}", s.dim);
  }
  std::string summary(const GemmSpec &s) {
    std::string text = s.swiglu ? "gemm_swiglu" : "gemm";
    if (s.grouped)
      text += formatv("_e{0}", s.experts).str();
    if (s.scatterAdd)
      text += "_scatter";
    return text + formatv("_n{0}_k{1}_{2}", s.n, s.k, s.weight.mnemonic()).str();
  }
  std::string summary(const RopeSpec &s) {
    return formatv("rope_h{0}_d{1}", s.heads, s.dims);
  }
  std::string summary(const KVAppendSpec &s) {
    return formatv("kv_append_r{0}_d{1}", s.rank, s.ropeDims);
  }
  std::string summary(const MLAAttentionSpec &s) {
    return formatv("mla_attention_h{0}_r{1}_{2}", s.heads, s.rank,
                   s.kvB.mnemonic());
  }
  std::string summary(const MoETopkSpec &s) {
    return formatv("moe_topk_e{0}_k{1}_{2}", s.experts, s.topk,
                   s.sigmoid ? "sigmoid" : "softmax");
  }
  std::string summary(const MoERouterSpec &s) {
    return formatv("moe_router_e{0}_k{1}_h{2}_{3}_{4}", s.topk.experts,
                   s.topk.topk, s.hidden, typeMnemonic(s.gateType),
                   s.topk.sigmoid ? "sigmoid" : "softmax");
  }
  std::string summary(const MoEPermuteSpec &s) {
    return formatv("moe_permute_e{0}", s.experts);
  }
  std::string summary(const MoECombineSpec &s) {
    return formatv("moe_combine_d{0}_k{1}", s.dim, s.topk);
  }

  std::string key(const EmbeddingSpec &s) { return summary(s); }
  std::string key(const RmsNormSpec &s) {
    return formatv("{0}_s{1}_o{2}_eps{3}", summary(s), s.inStride, s.inOffset,
                   exact(s.eps));
  }
  std::string key(const AddSpec &s) { return summary(s); }
  std::string key(const GatherLastSpec &s) { return summary(s); }
  std::string key(const GemmSpec &s) {
    return formatv("{0}_div{1}_scale{2}_ydiv{3}_init{4}", summary(s),
                   s.xRowDiv, s.rowScale, s.yRowDiv, s.init);
  }
  std::string key(const RopeSpec &s) {
    return formatv("{0}_s{1}_hs{2}_o{3}_t{4}", summary(s), s.rowStride,
                   s.headStride, s.offset, s.tableRows);
  }
  std::string key(const KVAppendSpec &s) {
    return formatv("{0}_t{1}_b{2}_s{3}_{4}_eps{5}", summary(s), s.tableRows,
                   s.maxBatch, s.maxSeqLen, typeMnemonic(s.normType),
                   exact(s.eps));
  }
  std::string key(const MLAAttentionSpec &s) {
    return formatv("{0}_n{1}_p{2}_v{3}_b{4}_s{5}_sc{6}", summary(s), s.nope,
                   s.rope, s.v, s.maxBatch, s.maxSeqLen, exact(s.scale));
  }
  std::string key(const MoETopkSpec &s) {
    return formatv("{0}_g{1}_{2}_n{3}_b{4}_x{5}", summary(s), s.groups,
                   s.topkGroups, s.renormalize,
                   s.biasType ? typeMnemonic(*s.biasType) : "none",
                   exact(s.scaling));
  }
  std::string key(const MoERouterSpec &s) {
    return formatv("{0}_{1}", summary(s), key(s.topk));
  }
  std::string key(const MoEPermuteSpec &s) { return summary(s); }
  std::string key(const MoECombineSpec &s) {
    return formatv("{0}_sh{1}", summary(s), s.shared);
  }

  KernelInterface interface(const EmbeddingSpec &) { return {3, 1}; }
  KernelInterface interface(const RmsNormSpec &) { return {3, 1}; }
  KernelInterface interface(const AddSpec &) { return {3, 1}; }
  KernelInterface interface(const GatherLastSpec &) { return {2, 2}; }
  KernelInterface interface(const GemmSpec &s) {
    int64_t weights = s.swiglu ? 2 : 1;
    int64_t perWeight = s.weight.block ? 2 : 1;
    int64_t buffers = 2 + weights * perWeight; // x, weights, y
    if (!s.grouped)
      return {buffers, 1};
    buffers += 2 + (s.rowScale ? 1 : 0); // offsets, order, row weights
    buffers += s.init ? 1 : 0;
    return {buffers, 2};
  }
  KernelInterface interface(const RopeSpec &) { return {3, 1}; }
  KernelInterface interface(const KVAppendSpec &) { return {5, 2}; }
  KernelInterface interface(const MLAAttentionSpec &s) {
    return {s.kvB.block ? 6 : 5, 2};
  }
  KernelInterface interface(const MoETopkSpec &s) {
    return {s.biasType ? 4 : 3, 1};
  }
  KernelInterface interface(const MoERouterSpec &s) {
    return {s.topk.biasType ? 5 : 4, 1};
  }
  KernelInterface interface(const MoEPermuteSpec &) { return {3, 1}; }
  KernelInterface interface(const MoECombineSpec &s) {
    return {s.shared ? 3 : 2, 1};
  }
};

} // namespace

StringRef lathe::kernelFamily(const KernelSpec &spec) {
  return std::visit([](const auto &s) { return Namer().family(s); }, spec);
}

std::string lathe::kernelSummary(const KernelSpec &spec) {
  return std::visit([](const auto &s) { return Namer().summary(s); }, spec);
}

std::string lathe::kernelKey(const KernelSpec &spec) {
  return std::visit(
      [](const auto &s) {
        Namer namer;
        return (namer.family(s) + ":" + namer.key(s)).str();
      },
      spec);
}

KernelInterface lathe::kernelInterface(const KernelSpec &spec) {
  return std::visit([](const auto &s) { return Namer().interface(s); }, spec);
}

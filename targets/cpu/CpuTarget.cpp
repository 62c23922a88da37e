//===- CpuTarget.cpp - the CPU target's kernel builder --------------------===//

#include "targets/cpu/CpuTarget.h"

#include "dialects/lathe/IR/LatheKernelOps.h"
#include "targets/cpu/Generators.h"
#include "targets/cpu/HostCodegen.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

namespace {

struct Dispatch {
  OpBuilder &b;
  Location loc;
  StringRef name;
  const CpuDescription &cpu;
#define LATHE_DISPATCH(Spec, function)                                         \
  FailureOr<func::FuncOp> operator()(const Spec &spec) {                       \
    return function(b, loc, name, spec, cpu);                                  \
  }
  LATHE_DISPATCH(EmbeddingSpec, buildEmbedding)
  LATHE_DISPATCH(RmsNormSpec, buildRmsNorm)
  LATHE_DISPATCH(AddSpec, buildAdd)
  LATHE_DISPATCH(GatherLastSpec, buildGatherLast)
  LATHE_DISPATCH(GemmSpec, buildGemm)
  LATHE_DISPATCH(RopeSpec, buildRope)
  LATHE_DISPATCH(KVAppendSpec, buildKVAppend)
  LATHE_DISPATCH(MLAAttentionSpec, buildMLAAttention)
  LATHE_DISPATCH(MoETopkSpec, buildMoETopk)
  LATHE_DISPATCH(MoERouterSpec, buildMoERouter)
  LATHE_DISPATCH(MoEPermuteSpec, buildMoEPermute)
  LATHE_DISPATCH(MoECombineSpec, buildMoECombine)
#undef LATHE_DISPATCH
};

class CpuTarget final : public KernelTarget {
public:
  explicit CpuTarget(CpuTargetOptions options)
      : options(std::move(options)),
        cpu(this->options.description ? *this->options.description
                                      : describe(this->options.cpu)) {}

  StringRef name() const override { return "cpu"; }

  void annotateModule(ModuleOp module) const override {
    Builder b(module.getContext());
    module->setAttr(kTargetAttrName, b.getStringAttr("cpu"));
    module->setAttr(kCpuAttrName, b.getStringAttr(options.cpu));
  }

  FailureOr<func::FuncOp> buildKernel(OpBuilder &builder, Location loc,
                                      StringRef name,
                                      const KernelSpec &spec) const override {
    return std::visit(Dispatch{builder, loc, name, cpu}, spec);
  }

private:
  /// Kernels are shaped for the CPU they will be compiled for. A CPU that
  /// does not resolve gets SSE's description here; compileCpuModule then
  /// reports the bad name.
  static CpuDescription describe(StringRef name) {
    llvm::Expected<CodegenCpu> resolved = resolveCpu(name);
    if (!resolved) {
      llvm::consumeError(resolved.takeError());
      return CpuDescription();
    }
    return CpuDescription::forFeatures(resolved->features);
  }

  CpuTargetOptions options;
  CpuDescription cpu;
};

} // namespace

std::unique_ptr<KernelTarget>
lathe::cpu::createCpuTarget(const CpuTargetOptions &options) {
  return std::make_unique<CpuTarget>(options);
}

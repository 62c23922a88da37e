//===- Pipeline.cpp - from any phase to any later one ---------------------===//

#include "compiler/Pipeline.h"

#include "compiler/BundleWriter.h"
#include "compiler/CostModel.h"
#include "compiler/GraphExport.h"
#include "compiler/Passes.h"
#include "dialects/lathe/IR/LatheOps.h"
#include "passes/Passes.h"
#include "passes/ToolOptions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace lathe;
using llvm::formatv;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<Phase> lathe::detectPhase(ModuleOp module) {
  if (!getTargetModules(module).empty())
    return Phase::Kernels;
  if (module.lookupSymbol<func::FuncOp>("forward"))
    return Phase::Input;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(kEntryAttrName))
      return Phase::Optimized;
  return makeError("the module has neither @forward (phase input), entries "
                   "marked lathe.entry (phase optimized) nor target modules "
                   "(phase kernels)");
}

namespace {

class Pipeline {
public:
  Pipeline(ModuleOp module, const PipelineOptions &options)
      : module(module), options(options) {}

  llvm::Error run();

private:
  void progress(const std::string &line) {
    if (options.progress)
      options.progress(line);
  }
  llvm::Error dump(Phase phase);
  /// Writes the graph, and prints the cost, if `phase` is the one they are
  /// wanted at.
  llvm::Error emitGraph(Phase phase);
  llvm::Error emitCost(Phase phase);
  llvm::Error report(Phase phase) {
    if (llvm::Error err = emitGraph(phase))
      return err;
    return emitCost(phase);
  }
  /// Runs the passes `build` adds, as phase `phase`.
  llvm::Error runPasses(Phase phase,
                        llvm::function_ref<void(OpPassManager &)> build);
  llvm::Error optimize();
  llvm::Error lowerKernels();
  llvm::Error writeBundle();

  ModuleOp module;
  const PipelineOptions &options;
};

llvm::Error Pipeline::dump(Phase phase) {
  if (options.dumpDir.empty())
    return llvm::Error::success();
  if (std::error_code ec = llvm::sys::fs::create_directories(options.dumpDir))
    return makeError(formatv("{0}: cannot create: {1}", options.dumpDir,
                             ec.message()));
  llvm::SmallString<256> path(options.dumpDir);
  // NN-PHASE.mlir: the files list in pipeline order.
  int index = static_cast<int>(phase);
  llvm::sys::path::append(path, (index < 10 ? "0" : "") + llvm::Twine(index) +
                                    "-" + phaseName(phase) + ".mlir");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError(formatv("{0}: cannot write: {1}", path, ec.message()));
  module->print(os);
  os << "\n";
  return llvm::Error::success();
}

llvm::Error Pipeline::runPasses(
    Phase phase, llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  if (failed(applyToolPassManagerOptions(pm)))
    return makeError("the --mlir-* pass manager options conflict");
  build(pm);
  if (failed(pm.run(module)))
    return makeError(formatv("phase {0} failed (see above)", phaseName(phase)));
  return llvm::Error::success();
}

llvm::Error Pipeline::emitGraph(Phase phase) {
  Phase wanted = std::min(options.compileTo, Phase::Kernels);
  if (options.graphPath.empty() || phase != wanted)
    return llvm::Error::success();
  std::error_code ec;
  llvm::raw_fd_ostream os(options.graphPath, ec);
  if (ec)
    return makeError(formatv("{0}: cannot write: {1}", options.graphPath,
                             ec.message()));
  writeGraph(module, os);
  return llvm::Error::success();
}

llvm::Error Pipeline::emitCost(Phase phase) {
  if (!options.printCost || phase != std::min(options.compileTo, Phase::Optimized))
    return llvm::Error::success();
  CostQuery query;
  query.promptTokens = options.costPromptTokens;
  query.contextTokens = options.costContextTokens;
  FailureOr<std::vector<PartCost>> parts = modelCost(module, query);
  if (failed(parts))
    return makeError("--print-cost: the graph cannot be counted (see above)");
  llvm::outs() << formatv("phase {0}: ", phaseName(phase));
  printCost(*parts, query, llvm::outs());
  llvm::outs().flush();
  return llvm::Error::success();
}

llvm::Error Pipeline::optimize() {
  progress("phase optimized: MoE routing fused; prefill and decode entries "
           "over the KV cache");
  OptimizedPhaseOptions phase;
  phase.maxBatch = options.maxBatch;
  phase.maxSeqLen = options.maxSeqLen;
  phase.skip = options.skipPasses;
  return runPasses(Phase::Optimized, [&](OpPassManager &pm) {
    buildOptimizedPhase(pm, phase);
  });
}

llvm::Error Pipeline::lowerKernels() {
  for (const std::string &name : options.targets)
    if (name != "cpu")
      return makeError(formatv("--target={0}: this version of lathe generates "
                               "code for --target=cpu only; GPU kernels are "
                               "planned",
                               name));
  progress(formatv("phase kernels: launches and kernels for {0}",
                   llvm::join(options.targets, ", "))
               .str());
  KernelsPhaseOptions phase;
  phase.targets = options.targets;
  phase.cpu = options.cpu;
  return runPasses(Phase::Kernels, [&](OpPassManager &pm) {
    buildKernelsPhase(pm, phase);
  });
}

llvm::Error Pipeline::writeBundle() {
  BundleOptions bundle;
  bundle.outputPath = options.outputPath;
  bundle.embedWeights = options.embedWeights;
  bundle.weightsDir = options.weightsDir;
  if (bundle.weightsDir.empty())
    if (auto dir = module->getAttrOfType<StringAttr>(kWeightsDirAttrName))
      bundle.weightsDir = dir.str();
  if (bundle.weightsDir.empty())
    return makeError(formatv("the module does not say where its weights are "
                             "({0}); pass --weights-dir",
                             kWeightsDirAttrName));
  bundle.producer = "lathe-compile " LATHE_VERSION;
  bundle.progress = options.progress;
  progress("phase bundle: code generation and " + options.outputPath);
  return lathe::writeBundle(module, bundle);
}

llvm::Error Pipeline::run() {
  llvm::Expected<Phase> phase = detectPhase(module);
  if (!phase)
    return phase.takeError();
  if (options.compileFrom && *options.compileFrom != *phase)
    return makeError(formatv("--compile-from={0}, but the input is in phase "
                             "{1}",
                             phaseName(*options.compileFrom),
                             phaseName(*phase)));
  if (*phase > options.compileTo)
    return makeError(formatv("the input is already in phase {0}, past "
                             "--compile-to={1}",
                             phaseName(*phase), phaseName(options.compileTo)));
  if (llvm::Error err = dump(*phase))
    return err;
  if (llvm::Error err = report(*phase))
    return err;
  while (*phase < options.compileTo) {
    Phase next = static_cast<Phase>(static_cast<int>(*phase) + 1);
    llvm::Error err = llvm::Error::success();
    switch (next) {
    case Phase::Optimized:
      err = optimize();
      break;
    case Phase::Kernels:
      err = lowerKernels();
      break;
    case Phase::Bundle:
      return writeBundle();
    case Phase::Input:
      llvm_unreachable("no phase leads to input");
    }
    if (err)
      return err;
    if (llvm::Error err = dump(next))
      return err;
    if (llvm::Error err = report(next))
      return err;
    *phase = next;
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error lathe::runPipeline(ModuleOp module, const PipelineOptions &options) {
  return Pipeline(module, options).run();
}

//===- Pipeline.h - from any phase to any later one -------------*- C++ -*-===//
//
// lathe-compile's work: a module of some phase (an imported checkpoint, or
// lathe IR dumped earlier) is carried through the phases after it, each one
// a named step the user can stop at (--compile-to) and dump (--dump-dir).
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_PIPELINE_H
#define LATHE_COMPILER_PIPELINE_H

#include "compiler/Phase.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// On a module: the directory that its lathe.weight files are relative to.
constexpr llvm::StringLiteral kWeightsDirAttrName = "lathe.weights_dir";

struct PipelineOptions {
  /// The phase the input is expected in (--compile-from); by default the
  /// one detectPhase finds.
  std::optional<Phase> compileFrom;
  Phase compileTo = Phase::Bundle;
  /// --target: "cpu", "sm_80", "sm_90a".
  std::vector<std::string> targets = {"cpu"};
  /// For targets/cpu: an LLVM CPU name or "native".
  std::string cpu = "native";
  int64_t maxBatch = 8;
  /// 0: the smaller of 4096 and the model's max_position_embeddings.
  int64_t maxSeqLen = 0;
  /// Graph passes of phase optimized not to run (optionalGraphPasses()).
  std::vector<std::string> skipPasses;
  /// Where each phase's IR is written as NN-PHASE.mlir (00-input.mlir,
  /// 01-optimized.mlir, 02-kernels.mlir); empty for nowhere.
  std::string dumpDir;
  /// Where the model graph (Graphviz DOT) of the last MLIR phase reached
  /// goes (--compile-to's, or kernels for a bundle); empty for nowhere.
  std::string graphPath;
  /// Print the cost of the last graph phase reached (input or optimized)
  /// on stdout, for these prompt and context lengths.
  bool printCost = false;
  int64_t costPromptTokens = 128;
  int64_t costContextTokens = 128;
  /// For phase bundle.
  std::string outputPath;
  bool embedWeights = false;
  /// Overrides the module's lathe.weights_dir.
  std::string weightsDir;
  /// A line per phase and long step.
  std::function<void(const std::string &)> progress;
};

/// The phase `module` is in: input (it has @forward), optimized (entries on
/// tensors) or kernels (it has target modules).
llvm::Expected<Phase> detectPhase(mlir::ModuleOp module);

/// Runs the phases after `module`'s own up to options.compileTo (the bundle
/// phase writes options.outputPath). Errors name the phase.
llvm::Error runPipeline(mlir::ModuleOp module, const PipelineOptions &options);

} // namespace lathe

#endif // LATHE_COMPILER_PIPELINE_H

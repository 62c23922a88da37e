//===- lathe-compile.cpp - ahead-of-time compiler driver ------------------===//
//
//   lathe-compile INPUT -o OUT [--compile-to=PHASE] [--target=cpu] ...
//
// INPUT is a Hugging Face checkpoint directory or lathe IR (.mlir) of any
// phase before OUT's. With --compile-to short of `bundle`, OUT is MLIR text.
//
//===----------------------------------------------------------------------===//

#include "compiler/Input.h"
#include "compiler/Passes.h"
#include "compiler/Phase.h"
#include "compiler/Pipeline.h"
#include "dialects/lathe/IR/LatheDialect.h"
#include "targets/cpu/CpuTarget.h"
#include "targets/cpu/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <chrono>

using namespace llvm;

namespace {

cl::OptionCategory category("lathe-compile options");

cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<checkpoint dir | model.mlir>"),
                               cl::cat(category));
cl::opt<std::string> outputPath("o", cl::Required, cl::value_desc("file"),
                                cl::desc("Output: a bundle, or MLIR text when "
                                         "--compile-to stops short of bundle "
                                         "('-' for stdout)"),
                                cl::cat(category));
cl::opt<std::string> compileTo(
    "compile-to", cl::init("bundle"), cl::value_desc("phase"),
    cl::desc("Stop after this phase: input | optimized | kernels | bundle "
             "(default)"),
    cl::cat(category));
cl::opt<std::string> compileFrom(
    "compile-from", cl::value_desc("phase"),
    cl::desc("The phase a .mlir input is in: input | optimized | kernels "
             "(default: told by its contents); resumes from an edited dump"),
    cl::cat(category));
cl::list<std::string> targets(
    "target", cl::CommaSeparated, cl::value_desc("cpu"),
    cl::desc("Targets to generate code for (default: cpu; sm_80 and sm_90a "
             "are planned)"),
    cl::cat(category));
cl::opt<std::string> cpuName(
    "cpu", cl::init("native"), cl::value_desc("name"),
    cl::desc("CPU the cpu target's code is tuned for and may use every "
             "feature of: an LLVM CPU name (x86-64-v3, znver4, ...) or "
             "native (default)"),
    cl::cat(category));
cl::opt<int64_t> maxBatch("max-batch", cl::init(8), cl::value_desc("N"),
                          cl::desc("Most rows one call of the bundle takes "
                                   "(default 8)"),
                          cl::cat(category));
cl::opt<int64_t> maxSeqLen(
    "max-seq-len", cl::init(0), cl::value_desc("N"),
    cl::desc("Most positions per row, cached and new (default: the smaller "
             "of 4096 and the model's max_position_embeddings)"),
    cl::cat(category));
cl::list<std::string> skipPasses(
    "skip-pass", cl::CommaSeparated, cl::value_desc("pass"),
    cl::desc("Graph passes of phase optimized not to run, to compare a model "
             "with and without them: lathe-fuse-moe-routing"),
    cl::cat(category));
cl::opt<bool> embedWeights("embed-weights",
                           cl::desc("Copy the weights into the bundle instead "
                                    "of referencing the checkpoint's files"),
                           cl::cat(category));
cl::opt<std::string> weightsDir(
    "weights-dir", cl::value_desc("dir"),
    cl::desc("Directory of the weight files a .mlir input names (default: "
             "the lathe.weights_dir it records)"),
    cl::cat(category));
cl::opt<std::string> dumpDir("dump-dir", cl::value_desc("dir"),
                             cl::desc("Write the IR of each phase reached as "
                                      "DIR/NN-PHASE.mlir"),
                             cl::cat(category));
cl::opt<std::string> emitGraph(
    "emit-graph", cl::value_desc("file.dot"),
    cl::desc("Write the model graph of the last MLIR phase reached "
             "(--compile-to's, or kernels for a bundle) as Graphviz DOT"),
    cl::cat(category));
cl::opt<bool> printCost(
    "print-cost",
    cl::desc("Print FLOPs and bytes per layer of the last graph phase reached "
             "(input or optimized) on stdout, for a prefill and a decode step"),
    cl::cat(category));
cl::opt<int64_t> costPrompt("cost-prompt-tokens", cl::init(128),
                            cl::value_desc("P"),
                            cl::desc("--print-cost's prefill length (default "
                                     "128)"),
                            cl::cat(category));
cl::opt<int64_t> costContext("cost-context", cl::init(128),
                             cl::value_desc("C"),
                             cl::desc("--print-cost's cached positions before "
                                      "the decode step (default 128)"),
                             cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Print no notes or progress on stderr"),
                    cl::cat(category));

int fail(const Twine &message) {
  WithColor::error(errs(), "lathe-compile") << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Every pass a phase may run, so that --mlir-print-ir-after=PASS and the
  // like can name it.
  mlir::registerAllPasses();
  lathe::registerLathePasses();
  lathe::registerLatheCompilerPasses();
  lathe::cpu::registerLatheCpuPasses();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  // libLLVM.so registers hundreds of backend options; --help shows ours and
  // MLIR's debugging flags (--mlir-print-ir-after-all, --mlir-timing, ...).
  static cl::OptionCategory mlirCategory("MLIR debugging options");
  for (auto &[name, option] : cl::getRegisteredOptions())
    if (name.starts_with("mlir-"))
      option->addCategory(mlirCategory);
  cl::HideUnrelatedOptions({&category, &mlirCategory});
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "lathe-compile " LATHE_VERSION " (MLIR/LLVM " LLVM_VERSION_STRING
          ")\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "lathe ahead-of-time compiler for DeepSeek-family models\n\n"
      "  lathe-compile CKPT_DIR --target=cpu -o model.lathe\n"
      "  lathe-compile CKPT_DIR --compile-to=input -o model.mlir\n"
      "  lathe-compile model.mlir --compile-to=kernels -o kernels.mlir\n");

  std::optional<lathe::Phase> phase = lathe::parsePhase(compileTo);
  if (!phase)
    return fail(formatv("--compile-to='{0}' is not a phase (input, optimized, "
                        "kernels or bundle)",
                        compileTo));
  std::optional<lathe::Phase> fromPhase;
  if (!compileFrom.empty()) {
    fromPhase = lathe::parsePhase(compileFrom);
    if (!fromPhase || *fromPhase == lathe::Phase::Bundle)
      return fail(formatv("--compile-from='{0}' is not a phase of lathe IR "
                          "(input, optimized or kernels)",
                          compileFrom));
  }
  for (const std::string &target : targets)
    if (target != "cpu" && target != "sm_80" && target != "sm_90a")
      return fail(formatv("--target='{0}' is not a target (cpu, sm_80 or "
                          "sm_90a)",
                          target));
  for (const std::string &pass : skipPasses)
    if (!llvm::is_contained(lathe::optionalGraphPasses(), pass))
      return fail(formatv("--skip-pass='{0}' is not an optional pass of "
                          "phase optimized ({1})",
                          pass, join(lathe::optionalGraphPasses(), ", ")));
  if (maxBatch <= 0)
    return fail(formatv("--max-batch={0}: must be positive", maxBatch));
  if (maxSeqLen < 0)
    return fail(formatv("--max-seq-len={0}: must be positive", maxSeqLen));
  if (costPrompt <= 0 || costContext < 0)
    return fail("--cost-prompt-tokens must be positive and --cost-context "
                "not negative");
  if (*phase == lathe::Phase::Bundle && outputPath == "-")
    return fail("-o -: a bundle is written to a file");

  // Every dialect a phase holds: the graph's, and what the kernels are built
  // from and lowered through.
  mlir::DialectRegistry registry;
  lathe::cpu::registerCpuTargetDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics of every phase as `file:line:col: error: ...` with the
  // source line (the handler reads .mlir inputs on demand).
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  // Linking the CPU code runs lld in-process, whose driver resets every
  // llvm::cl option: what the rest of main needs is copied out first.
  const bool silent = quiet;
  const std::string output = outputPath;

  auto note = [&](const std::string &text) {
    if (!silent)
      WithColor::note(errs(), "lathe-compile") << text << "\n";
  };
  // Progress: each phase and long step, with the time since the start.
  auto start = std::chrono::steady_clock::now();
  auto progress = [&](const std::string &text) {
    if (silent)
      return;
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    errs() << formatv("lathe-compile: [{0,5:f1}s] ", seconds) << text << "\n";
  };
  Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      lathe::loadInput(context, inputPath, note);
  if (!module)
    return fail(toString(module.takeError()));

  lathe::PipelineOptions options;
  options.compileFrom = fromPhase;
  options.compileTo = *phase;
  if (!targets.empty())
    options.targets.assign(targets.begin(), targets.end());
  options.cpu = cpuName;
  options.maxBatch = maxBatch;
  options.maxSeqLen = maxSeqLen;
  options.skipPasses.assign(skipPasses.begin(), skipPasses.end());
  options.dumpDir = dumpDir;
  options.graphPath = emitGraph;
  options.printCost = printCost;
  options.costPromptTokens = costPrompt;
  options.costContextTokens = costContext;
  options.outputPath = output;
  options.embedWeights = embedWeights;
  options.weightsDir = weightsDir;
  options.progress = progress;
  if (Error err = lathe::runPipeline(**module, options))
    return fail(toString(std::move(err)));
  if (*phase == lathe::Phase::Bundle) {
    progress(formatv("wrote {0}", output).str());
    return 0;
  }

  std::string error;
  std::unique_ptr<ToolOutputFile> file = mlir::openOutputFile(output, &error);
  if (!file)
    return fail(error);
  (*module)->print(file->os());
  file->os() << "\n";
  if (file->os().has_error())
    return fail(formatv("{0}: write failed", output));
  file->keep();
  return 0;
}

//===- lathe-compile.cpp - ahead-of-time compiler driver ------------------===//
//
//   lathe-compile INPUT -o OUT [--compile-to=PHASE] [--target=...] ...
//
// INPUT is a Hugging Face checkpoint directory or lathe IR (.mlir) of any
// phase. With --compile-to short of `bundle`, OUT is MLIR text.
//
//===----------------------------------------------------------------------===//

#include "compiler/Input.h"
#include "compiler/Phase.h"
#include "dialects/lathe/IR/LatheDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

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
             "(this version produces: input)"),
    cl::cat(category));
cl::list<std::string> targets(
    "target", cl::CommaSeparated, cl::value_desc("cpu,sm_80,sm_90a"),
    cl::desc("Targets to generate code for (default: cpu)"), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Print no notes or progress on stderr"),
                    cl::cat(category));

int fail(const Twine &message) {
  WithColor::error(errs(), "lathe-compile") << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
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
  cl::ParseCommandLineOptions(
      argc, argv,
      "lathe ahead-of-time compiler for DeepSeek-family models\n\n"
      "  lathe-compile CKPT_DIR --compile-to=input -o model.mlir\n");

  std::optional<lathe::Phase> phase = lathe::parsePhase(compileTo);
  if (!phase)
    return fail(formatv("--compile-to='{0}' is not a phase (input, optimized, "
                        "kernels or bundle)",
                        compileTo));
  for (const std::string &target : targets)
    if (target != "cpu" && target != "sm_80" && target != "sm_90a")
      return fail(formatv("--target='{0}' is not a target (cpu, sm_80 or "
                          "sm_90a)",
                          target));
  if (*phase > lathe::kLastAvailablePhase)
    return fail(formatv("--compile-to={0}: this version of lathe compiles up "
                        "to phase '{1}'; pass --compile-to={1}",
                        lathe::phaseName(*phase),
                        lathe::phaseName(lathe::kLastAvailablePhase)));

  mlir::DialectRegistry registry;
  registry.insert<lathe::LatheDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext context(registry);
  auto note = [](const std::string &text) {
    if (!quiet)
      WithColor::note(errs(), "lathe-compile") << text << "\n";
  };
  Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      lathe::loadInput(context, inputPath, note);
  if (!module)
    return fail(toString(module.takeError()));

  std::string error;
  std::unique_ptr<ToolOutputFile> output = mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail(error);
  (*module)->print(output->os());
  output->os() << "\n";
  if (output->os().has_error())
    return fail(formatv("{0}: write failed", outputPath));
  output->keep();
  return 0;
}

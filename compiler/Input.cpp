//===- Input.cpp - what lathe-compile reads -------------------------------===//

#include "compiler/Input.h"

#include "compiler/Pipeline.h"

#include "frontends/hf/Importer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using llvm::formatv;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Parses MLIR text. Parser and verifier diagnostics go to stderr as
/// `file:line:col: error: ...` with the source line, the way mlir-opt prints
/// them; the returned error only says that the file did not parse.
static llvm::Expected<OwningOpRef<ModuleOp>> parseMLIR(MLIRContext &context,
                                                       llvm::StringRef path) {
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
  std::string includedFrom;
  if (sourceMgr.AddIncludeFile(path.str(), llvm::SMLoc(), includedFrom) == 0)
    return makeError(formatv("{0}: cannot read the file", path));
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return makeError(formatv("{0}: not valid lathe IR (see above)", path));
  return module;
}

llvm::Expected<OwningOpRef<ModuleOp>>
lathe::loadInput(MLIRContext &context, llvm::StringRef path,
                 const std::function<void(const std::string &)> &note) {
  if (!llvm::sys::fs::exists(path))
    return makeError(formatv("{0}: no such file or directory", path));
  if (llvm::sys::fs::is_directory(path)) {
    llvm::SmallString<256> config(path);
    llvm::sys::path::append(config, "config.json");
    if (!llvm::sys::fs::exists(config))
      return makeError(formatv("{0}: a checkpoint directory needs config.json",
                               path));
    auto module = hf::importCheckpoint(context, path, note);
    if (!module)
      return module.takeError();
    // Later phases find the weight files through it.
    llvm::SmallString<256> absolute(path);
    llvm::sys::fs::make_absolute(absolute);
    llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
    (**module)->setAttr(kWeightsDirAttrName,
                        StringAttr::get(&context, absolute));
    return module;
  }
  llvm::StringRef ext = llvm::sys::path::extension(path);
  if (ext == ".mlir")
    return parseMLIR(context, path);
  if (ext == ".onnx")
    return makeError(formatv("{0}: ONNX models cannot be imported by this "
                             "version of lathe; give a Hugging Face checkpoint "
                             "directory or a .mlir file",
                             path));
  return makeError(formatv("{0}: expected a Hugging Face checkpoint directory "
                           "or a .mlir file",
                           path));
}

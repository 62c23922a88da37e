//===- Input.h - what lathe-compile reads ------------------------*- C++ -*-===//

#ifndef LATHE_COMPILER_INPUT_H
#define LATHE_COMPILER_INPUT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>

namespace lathe {

/// Loads a model: a Hugging Face checkpoint directory (config.json +
/// safetensors) is imported; a `.mlir` file is parsed as lathe IR of any
/// phase. Errors name the file and what is wrong in it; `note` receives
/// remarks for the user.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
loadInput(mlir::MLIRContext &context, llvm::StringRef path,
          const std::function<void(const std::string &)> &note);

} // namespace lathe

#endif // LATHE_COMPILER_INPUT_H

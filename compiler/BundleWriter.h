//===- BundleWriter.h - phase `kernels` to a bundle file ---------*- C++ -*-===//
//
// Compiles each target module of a kernels-phase module to device code and
// writes the bundle of docs/bundle-format.md: config, weights (referenced or
// embedded), constants, kernels, functions as step lists, KV-cache layout.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_BUNDLEWRITER_H
#define LATHE_COMPILER_BUNDLEWRITER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>

namespace lathe {

struct BundleOptions {
  /// The bundle file to write.
  std::string outputPath;
  /// The directory that lathe.weight files are relative to (the checkpoint).
  std::string weightsDir;
  /// Copy the weights into the bundle instead of referencing their files.
  bool embedWeights = false;
  /// Bundle.producer.
  std::string producer;
  /// Receives a line per stage of the work (may be empty).
  std::function<void(const std::string &)> progress;
};

/// Writes `module` (phase kernels; its target modules are compiled and so
/// rewritten in place) as a bundle. Errors name the file, weight or kernel.
llvm::Error writeBundle(mlir::ModuleOp module, const BundleOptions &options);

} // namespace lathe

#endif // LATHE_COMPILER_BUNDLEWRITER_H

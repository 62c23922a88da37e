//===- Importer.h - DeepSeek-family HF checkpoints into lathe IR -*- C++ -*-===//

#ifndef LATHE_FRONTENDS_HF_IMPORTER_H
#define LATHE_FRONTENDS_HF_IMPORTER_H

#include "frontends/hf/HFConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace lathe::hf {

/// Where one checkpoint tensor lives.
struct TensorInfo {
  std::string file;  // relative to the checkpoint directory
  std::string dtype; // safetensors spelling: BF16, F32, F8_E4M3, ...
  std::vector<int64_t> shape;
  int64_t offset = 0; // absolute byte offset of the data in `file`
};

using TensorCatalog = llvm::StringMap<TensorInfo>;

/// Reads the safetensors headers of a checkpoint directory (through the
/// index when there is one) into a catalog. Errors name the file.
llvm::Expected<TensorCatalog> readTensorCatalog(llvm::StringRef dir);

/// Builds `func.func @forward(tokens, positions) -> logits` in lathe IR from a
/// config and the checkpoint's tensors. Checkpoint tensors are referenced by
/// `lathe.weight`, never copied. `note` receives remarks for the user (e.g.
/// skipped multi-token-prediction layers). Errors name the tensor and file.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const DeepSeekConfig &config,
            const TensorCatalog &tensors,
            const std::function<void(const std::string &)> &note);

/// readConfig + readTensorCatalog + importModel on a checkpoint directory.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &context, llvm::StringRef dir,
                 const std::function<void(const std::string &)> &note);

} // namespace lathe::hf

#endif // LATHE_FRONTENDS_HF_IMPORTER_H

//===- WeightStore.h - a bundle's weights, mapped and checked --*- C++ -*-===//
//
// Weights are read in place: each weight file is mapped read-only (pages
// come in as kernels touch them) and checked against what the bundle was
// compiled with, its size and the FNV-1a-64 of its header, so that a
// different or truncated checkpoint is refused before any kernel reads it.
// Paths are relative to the bundle's directory, so a bundle moved together
// with its weights keeps working.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_BUNDLE_WEIGHTSTORE_H
#define LATHE_RUNTIME_BUNDLE_WEIGHTSTORE_H

#include "runtime/bundle/Bundle.h"
#include "runtime/support/MappedFile.h"
#include "runtime/support/Status.h"

#include <cstdint>
#include <vector>

namespace lathe::rt {

class WeightStore {
public:
  /// Maps and checks every weight file of `bundle`, which must outlive the
  /// store (the embedded blob stays in the bundle's mapping). Errors read
  /// "BUNDLE: weight_files[i]: FILE: ...".
  static Expected<WeightStore> open(const Bundle &bundle);

  /// The data of weights[i] (read-only memory).
  const void *weight(uint32_t index) const { return weights[index]; }
  uint32_t numWeights() const { return uint32_t(weights.size()); }

  /// The resolved path of weight_files[i] ("" for the embedded blob).
  const std::string &filePath(uint32_t index) const { return paths[index]; }

private:
  std::vector<MappedFile> files;
  std::vector<std::string> paths;
  std::vector<const void *> weights;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_BUNDLE_WEIGHTSTORE_H

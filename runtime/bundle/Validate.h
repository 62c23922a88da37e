//===- Validate.h - the semantic rules of a bundle -------------*- C++ -*-===//
//
// FlatBuffers' verifier proves that every offset of a bundle stays inside
// the buffer; it knows nothing of what the fields mean. validateBundle
// checks the rest of docs/bundle-format.md, so that the runtime can index
// with any value the bundle holds: indices in range, Expr programs well
// formed over their context, per-target kernel counts, constants' sizes,
// weights inside their files, arena and KV-cache offsets, parameter roles.
// Checks that need the machine (weight files, CPU features, symbols) or a
// call's shapes (input and output offsets) happen where those are known.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_BUNDLE_VALIDATE_H
#define LATHE_RUNTIME_BUNDLE_VALIDATE_H

#include "runtime/schema/bundle_generated.h"
#include "runtime/support/Status.h"

#include <cstdint>

namespace lathe::rt {

/// What validateBundle needs to know of the file around the FlatBuffer.
struct BundleExtent {
  /// The FlatBuffer's first byte (alignment is relative to it).
  const uint8_t *base = nullptr;
  /// Whether the trailer names an embedded weights blob, and its size.
  bool hasBlob = false;
  uint64_t blobSize = 0;
};

/// Checks `root` (a verified FlatBuffer) against every rule that depends on
/// the bundle alone. Messages name the field by its path in the schema:
/// "functions[0] 'prefill': steps[3]: buffers[1]: ...".
Status validateBundle(const lathe::bundle::Bundle &root,
                      const BundleExtent &extent);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_BUNDLE_VALIDATE_H

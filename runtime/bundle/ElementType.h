//===- ElementType.h - bundle element types as DTypes ----------*- C++ -*-===//
//
// The bundle stores element types as its own enum (bundle.fbs ElementType);
// the rest of the runtime speaks DType. A bundle is untrusted, so its enum
// may hold any byte: toDType says which ones are element types.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_BUNDLE_ELEMENTTYPE_H
#define LATHE_RUNTIME_BUNDLE_ELEMENTTYPE_H

#include "runtime/schema/bundle_generated.h"
#include "runtime/support/DType.h"
#include "runtime/support/Status.h"

#include <cstdint>
#include <optional>
#include <string>

namespace lathe::rt {

/// The DType of a bundle element type, or none for a value outside the enum.
std::optional<DType> toDType(lathe::bundle::ElementType type);

/// The schema's name of `type` ("BF16"), or "ElementType(N)" when out of
/// range.
std::string elementTypeName(lathe::bundle::ElementType type);

/// The bytes `rank` dims of `dtype` take. Errors, without context, when a
/// dim is negative or the size does not fit in int64.
Expected<uint64_t> tensorBytes(DType dtype, const int64_t *dims, size_t rank);

/// The same over a FlatBuffers shape (null: a scalar).
Expected<uint64_t> tensorBytes(DType dtype,
                               const flatbuffers::Vector<int64_t> *shape);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_BUNDLE_ELEMENTTYPE_H

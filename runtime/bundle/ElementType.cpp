//===- ElementType.cpp - the bundle's element types as runtime dtypes -----===//

#include "runtime/bundle/ElementType.h"

#include <limits>
#include <vector>

using namespace lathe::rt;
using lathe::bundle::ElementType;

std::optional<DType> lathe::rt::toDType(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return DType::F32;
  case ElementType::F16:
    return DType::F16;
  case ElementType::BF16:
    return DType::BF16;
  case ElementType::F8E4M3FN:
    return DType::F8E4M3;
  case ElementType::F8E5M2:
    return DType::F8E5M2;
  case ElementType::I32:
    return DType::I32;
  case ElementType::I64:
    return DType::I64;
  case ElementType::U8:
    return DType::U8;
  case ElementType::F64:
    return DType::F64;
  }
  return std::nullopt;
}

std::string lathe::rt::elementTypeName(ElementType type) {
  if (!toDType(type))
    return "ElementType(" + std::to_string(unsigned(type)) + ")";
  return lathe::bundle::EnumNameElementType(type);
}

Expected<uint64_t> lathe::rt::tensorBytes(DType dtype, const int64_t *dims,
                                          size_t rank) {
  // Every dim is checked, even after a zero, so that a shape's validity does
  // not depend on the order of its dims.
  const uint64_t limit = uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t bytes = dtypeSize(dtype);
  bool empty = false;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return makeError("dim ", i, " is negative (", dims[i], ")");
    if (dims[i] == 0) {
      empty = true;
      continue;
    }
    if (bytes > limit / uint64_t(dims[i]))
      return makeError("the byte size overflows int64");
    bytes *= uint64_t(dims[i]);
  }
  return empty ? 0 : bytes;
}

Expected<uint64_t>
lathe::rt::tensorBytes(DType dtype, const flatbuffers::Vector<int64_t> *shape) {
  if (!shape)
    return tensorBytes(dtype, nullptr, 0);
  std::vector<int64_t> dims(shape->begin(), shape->end());
  return tensorBytes(dtype, dims.data(), dims.size());
}

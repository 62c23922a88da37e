//===- DType.cpp - element types of weight files --------------------------===//

#include "runtime/support/DType.h"

using namespace lathe::rt;

namespace {

struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
};

// In enum order, so that a DType indexes it.
constexpr DTypeInfo dtypeTable[] = {
    {DType::Bool, "BOOL", 1},      {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},          {DType::U16, "U16", 2},
    {DType::I16, "I16", 2},        {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},      {DType::U32, "U32", 4},
    {DType::I32, "I32", 4},        {DType::F32, "F32", 4},
    {DType::U64, "U64", 8},        {DType::I64, "I64", 8},
    {DType::F64, "F64", 8},        {DType::F8E4M3, "F8_E4M3", 1},
    {DType::F8E5M2, "F8_E5M2", 1},
};

constexpr bool tableInEnumOrder() {
  for (size_t i = 0; i < sizeof(dtypeTable) / sizeof(dtypeTable[0]); ++i)
    if (size_t(dtypeTable[i].dtype) != i)
      return false;
  return true;
}
static_assert(tableInEnumOrder(), "dtypeTable must follow the DType order");

const DTypeInfo *lookup(DType dtype) {
  size_t index = size_t(dtype);
  if (index >= sizeof(dtypeTable) / sizeof(dtypeTable[0]))
    return nullptr;
  return &dtypeTable[index];
}

} // namespace

std::optional<DType> lathe::rt::parseDType(std::string_view safetensorsName) {
  for (const DTypeInfo &info : dtypeTable)
    if (safetensorsName == info.name)
      return info.dtype;
  return std::nullopt;
}

const char *lathe::rt::dtypeName(DType dtype) {
  const DTypeInfo *info = lookup(dtype);
  return info ? info->name : "<invalid dtype>";
}

size_t lathe::rt::dtypeSize(DType dtype) {
  const DTypeInfo *info = lookup(dtype);
  return info ? info->size : 0;
}

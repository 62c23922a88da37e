//===- DType.h - element types of weight files ------------------*- C++ -*-===//
//
// The element types a safetensors file can hold, named as safetensors spells
// them. FP8 E4M3 is the "FN" variant (no infinities), as in DeepSeek-V3's
// checkpoints and MLIR's f8E4M3FN.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_DTYPE_H
#define LATHE_RUNTIME_SUPPORT_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lathe::rt {

enum class DType : uint8_t {
  Bool,
  U8,
  I8,
  U16,
  I16,
  F16,
  BF16,
  U32,
  I32,
  F32,
  U64,
  I64,
  F64,
  F8E4M3,
  F8E5M2,
};

/// The dtype a safetensors header names ("BF16", "F8_E4M3", ...), or none.
std::optional<DType> parseDType(std::string_view safetensorsName);

/// The safetensors spelling of `dtype`.
const char *dtypeName(DType dtype);

/// Bytes per element.
size_t dtypeSize(DType dtype);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_DTYPE_H

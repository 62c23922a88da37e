//===- Safetensors.h - the safetensors weight format ------------*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length H, H bytes of
// JSON describing each tensor (dtype, shape, [begin, end) within the data
// section), then the data section. The header is untrusted input: every
// field is checked, with overflow-safe arithmetic, before any offset is
// used, and each error names the tensor at fault.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_SAFETENSORS_H
#define LATHE_RUNTIME_SUPPORT_SAFETENSORS_H

#include "runtime/support/DType.h"
#include "runtime/support/MappedFile.h"
#include "runtime/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lathe::rt {

struct TensorEntry {
  std::string name;
  DType dtype = DType::U8;
  std::vector<int64_t> shape;
  /// Absolute byte offsets in the file (8 + header length + data_offsets).
  uint64_t dataBegin = 0, dataEnd = 0;

  /// The product of the dims (1 for a scalar). Parsing guarantees it times
  /// the dtype size fits in int64.
  uint64_t numElements() const;
};

struct SafetensorsHeader {
  /// The length of the JSON header.
  uint64_t headerSize = 0;
  /// Where the data section starts: 8 + headerSize.
  uint64_t dataStart = 0;
  uint64_t fileSize = 0;
  /// In document order.
  std::vector<TensorEntry> tensors;
  /// The "__metadata__" strings, in document order.
  std::vector<std::pair<std::string, std::string>> metadata;

  /// The tensor named `name`, or null. Linear in the tensor count.
  const TensorEntry *find(std::string_view name) const;
};

/// Parses and checks the header of a safetensors file. `bytes` are the first
/// `size` bytes of a file of `fileSize` bytes (size <= fileSize); they must
/// include the whole header. Errors carry no file name.
Expected<SafetensorsHeader>
parseSafetensorsHeader(const uint8_t *bytes, size_t size, uint64_t fileSize);

/// A mapped safetensors file with its checked header.
class SafetensorsFile {
public:
  /// Maps `path` and parses its header; every error starts "PATH: ".
  static Expected<SafetensorsFile> open(const std::string &path);

  const SafetensorsHeader &header() const { return parsed; }
  /// The first byte of `entry`'s data; `entry` must come from header().
  const uint8_t *data(const TensorEntry &entry) const {
    return mapped.data() + entry.dataBegin;
  }
  const std::string &path() const { return mapped.path(); }
  const MappedFile &file() const { return mapped; }

private:
  SafetensorsFile(MappedFile mapped, SafetensorsHeader parsed)
      : mapped(std::move(mapped)), parsed(std::move(parsed)) {}

  MappedFile mapped;
  SafetensorsHeader parsed;
};

/// model.safetensors.index.json, which shards a model over several files.
struct SafetensorsIndex {
  /// Tensor name -> file name, in document order.
  std::vector<std::pair<std::string, std::string>> weightMap;
};

/// Parses an index: an object whose "weight_map" maps tensor names to plain
/// file names in the same directory; "metadata" and other keys are ignored.
/// Errors carry no file name.
Expected<SafetensorsIndex> parseSafetensorsIndex(std::string_view text);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_SAFETENSORS_H

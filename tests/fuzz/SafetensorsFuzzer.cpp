//===- SafetensorsFuzzer.cpp - fuzz the runtime's file-format parsers -----===//
//
// One input feeds every parser of LatheRuntimeSupport: the JSON parser, the
// safetensors header read as a whole file, the same bytes read as the JSON
// of a header (so that mutations need not keep the length prefix in step),
// and the sharding index. Accepted headers are checked against the
// guarantees the rest of lathe relies on, and their tensor bytes are read so
// that AddressSanitizer sees any offset that escapes the file.
//
//===----------------------------------------------------------------------===//

#include "runtime/support/Json.h"
#include "runtime/support/Safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

using namespace lathe::rt;

namespace {

[[noreturn]] void violated(const char *what) {
  std::fprintf(stderr, "fuzz-safetensors: broken guarantee: %s\n", what);
  std::abort();
}

void check(bool condition, const char *what) {
  if (!condition)
    violated(what);
}

/// Checks what an accepted header promises, and reads each tensor's bytes.
void checkHeader(const SafetensorsHeader &header, const uint8_t *file,
                 uint64_t fileSize) {
  check(header.fileSize == fileSize, "fileSize");
  check(header.dataStart == 8 + header.headerSize, "dataStart");
  check(header.dataStart <= fileSize, "dataStart within the file");
  uint8_t sum = 0;
  for (const TensorEntry &entry : header.tensors) {
    check(entry.dataBegin >= header.dataStart, "tensor starts in the data");
    check(entry.dataBegin <= entry.dataEnd, "tensor begin <= end");
    check(entry.dataEnd <= fileSize, "tensor ends in the file");
    uint64_t count = entry.numElements();
    uint64_t size = dtypeSize(entry.dtype);
    check(size != 0, "dtype has a size");
    check(count <= uint64_t(std::numeric_limits<int64_t>::max()) / size,
          "byte size fits in int64");
    check(entry.dataEnd - entry.dataBegin == count * size,
          "span matches the shape");
    for (int64_t dim : entry.shape)
      check(dim >= 0, "dims are non-negative");
    check(header.find(entry.name) == &entry, "names are unique");
    for (uint64_t i = entry.dataBegin; i < entry.dataEnd; ++i)
      sum = uint8_t(sum + file[i]);
  }
  // Keep the reads from being optimized away.
  volatile uint8_t sink = sum;
  (void)sink;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);

  Expected<json::Value> value = json::parse(text);
  if (value.ok() && value->isObject())
    for (const auto &member : value->asObject())
      check(value->find(member.first) == &member.second, "keys are unique");

  Expected<SafetensorsHeader> header = parseSafetensorsHeader(data, size, size);
  if (header.ok())
    checkHeader(*header, data, size);

  // The input as the JSON of a header, followed by 256 bytes of data.
  std::vector<uint8_t> file(8 + size + 256, 0);
  for (int i = 0; i < 8; ++i)
    file[i] = uint8_t(uint64_t(size) >> (8 * i));
  std::copy(data, data + size, file.begin() + 8);
  header = parseSafetensorsHeader(file.data(), file.size(), file.size());
  if (header.ok())
    checkHeader(*header, file.data(), file.size());

  Expected<SafetensorsIndex> index = parseSafetensorsIndex(text);
  if (index.ok())
    for (const auto &[tensor, fileName] : index->weightMap)
      check(!fileName.empty() && fileName.find('/') == std::string::npos,
            "index file names are plain");
  return 0;
}

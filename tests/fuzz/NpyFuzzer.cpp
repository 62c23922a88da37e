//===- NpyFuzzer.cpp - fuzz the .npy reader and writer --------------------===//
//
// The input is read twice: as a whole .npy file, and as the header of one
// (behind a valid magic, version and length, so that mutations reach the
// dict parser without keeping the length in step), then over as many data
// bytes as the header asks for when that is small. Every accepted array is
// checked against what parseNpy promises, written back with serializeNpy,
// and read again: the second read must give the same array, and writing it
// again the same bytes.
//
//===----------------------------------------------------------------------===//

#include "runtime/support/Npy.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace lathe::rt;

namespace {

/// A header asking for more data than this is not given its data.
constexpr uint64_t maxDataBytes = uint64_t(1) << 16;

[[noreturn]] void violated(const char *what) {
  std::fprintf(stderr, "fuzz-npy: broken guarantee: %s\n", what);
  std::abort();
}

void check(bool condition, const char *what) {
  if (!condition)
    violated(what);
}

void checkError(const Status &status) {
  check(!status.ok(), "an error status");
  check(!status.message().empty(), "errors have a message");
}

/// Checks what an accepted array promises and that it survives a round
/// trip through serializeNpy.
void checkArray(const NpyArray &array) {
  for (int64_t dim : array.shape)
    check(dim >= 0, "dims are non-negative");
  size_t elementSize = dtypeSize(array.dtype);
  check(elementSize != 0, "dtype has a size");
  check(uint64_t(array.numElements()) * elementSize == array.data.size(),
        "data size matches the shape");

  if (array.dtype == DType::I32 || array.dtype == DType::I64) {
    Expected<std::vector<int64_t>> ints = toInt64(array);
    check(ints.ok(), "toInt64 takes an integer array");
    check(ints->size() == uint64_t(array.numElements()),
          "toInt64 gives every element");
  } else {
    checkError(toInt64(array).status());
  }

  Expected<std::vector<uint8_t>> bytes = serializeNpy(array);
  check(bytes.ok(), "an accepted array can be written");
  Expected<NpyHeader> header = parseNpyHeader(bytes->data(), bytes->size());
  check(header.ok(), "a written header can be read");
  check(header->dataOffset % 64 == 0, "written data is 64-byte aligned");
  check((*bytes)[header->dataOffset - 1] == '\n', "headers end with \\n");

  Expected<NpyArray> again = parseNpy(bytes->data(), bytes->size());
  check(again.ok(), "a written array can be read");
  check(again->dtype == array.dtype, "round trip keeps the dtype");
  check(again->shape == array.shape, "round trip keeps the shape");
  check(again->data == array.data, "round trip keeps the data");

  Expected<std::vector<uint8_t>> rewritten = serializeNpy(*again);
  check(rewritten.ok() && *rewritten == *bytes, "writing is deterministic");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Expected<NpyArray> array = parseNpy(data, size);
  if (array.ok())
    checkArray(*array);
  else
    checkError(array.status());

  // The input as a header: version 1.0 where its length fits, else 2.0.
  bool wide = size > 0xffff;
  std::vector<uint8_t> file = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  file.push_back(wide ? 2 : 1);
  file.push_back(0);
  for (int i = 0; i < (wide ? 4 : 2); ++i)
    file.push_back(uint8_t(uint64_t(size) >> (8 * i)));
  size_t prefixSize = file.size();
  file.insert(file.end(), data, data + size);

  Expected<NpyHeader> header = parseNpyHeader(file.data(), file.size());
  if (!header.ok()) {
    checkError(header.status());
    return 0;
  }
  check(header->majorVersion == (wide ? 2 : 1), "version as written");
  check(header->dataOffset == prefixSize + size, "data follows the header");
  if (header->dataBytes > maxDataBytes)
    return 0;
  for (uint64_t i = 0; i < header->dataBytes; ++i)
    file.push_back(uint8_t(i * 131 + 7));
  array = parseNpy(file.data(), file.size());
  check(array.ok(), "a valid header over the right data is accepted");
  check(array->dtype == header->dtype && array->shape == header->shape,
        "parseNpy agrees with parseNpyHeader");
  checkArray(*array);

  // One byte more or less is an error.
  file.push_back(0);
  checkError(parseNpy(file.data(), file.size()).status());
  file.resize(file.size() - 1);
  if (header->dataBytes > 0) {
    file.pop_back();
    checkError(parseNpy(file.data(), file.size()).status());
  }
  return 0;
}

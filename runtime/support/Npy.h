//===- Npy.h - NumPy .npy arrays --------------------------------*- C++ -*-===//
//
// lathe-run takes its inputs and writes its outputs as .npy files
// (--prompt-tokens=P.npy, --input=@x.npy, T.npy, L.npy). A .npy file is the
// magic "\x93NUMPY", a format version, a little-endian header length (2 bytes
// in version 1.0, 4 in 2.0 and 3.0), a header that is a Python dict literal
// such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, then
// the elements in C order.
//
// Files are untrusted input: the header is parsed as a strict subset of
// Python literals, every size is checked for overflow before use, and a file
// must hold exactly the bytes its shape implies. Only little-endian, C-order
// arrays of the types below are accepted; anything else is rejected with a
// message that says what to change. The writer produces the bytes np.save
// produces for the same array.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_NPY_H
#define LATHE_RUNTIME_SUPPORT_NPY_H

#include "runtime/support/DType.h"
#include "runtime/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lathe::rt {

/// An array as a .npy file holds it. Supported dtypes: I32, I64, F32, F16
/// (the ones lathe-run's contract needs), and F64, I8, U8, Bool.
struct NpyArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// The elements in C order, little-endian.
  std::vector<uint8_t> data;

  /// The product of the dims (1 for a scalar, 0 if any dim is 0). Parsed
  /// arrays guarantee it times the dtype size fits in int64.
  int64_t numElements() const;

  /// An array of `shape` holding `values`; errors if their counts differ.
  static Expected<NpyArray> fromFloats(std::vector<int64_t> shape,
                                       const std::vector<float> &values);
  static Expected<NpyArray> fromInt64s(std::vector<int64_t> shape,
                                       const std::vector<int64_t> &values);
  /// An array of `shape` and `dtype` whose bytes are `bytes` (little-endian,
  /// C order); errors if the dtype is not supported or the sizes differ.
  static Expected<NpyArray> fromBytes(DType dtype, std::vector<int64_t> shape,
                                      const void *bytes, size_t size);
};

/// What a .npy header says, before any data is read.
struct NpyHeader {
  int majorVersion = 1;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Where the elements start: after the magic, length and header.
  uint64_t dataOffset = 0;
  /// The bytes the shape implies; fits in int64.
  uint64_t dataBytes = 0;
};

/// Parses and checks the magic, version and header of the `size` bytes at
/// `bytes`; does not look at the data. Errors carry no file name.
Expected<NpyHeader> parseNpyHeader(const uint8_t *bytes, size_t size);

/// Parses a whole .npy file held in memory. Errors carry no file name.
Expected<NpyArray> parseNpy(const uint8_t *bytes, size_t size);

/// Reads the .npy file at `path`; errors read "PATH: ...".
Expected<NpyArray> readNpy(const std::string &path);

/// The bytes of `array` as a version 1.0 .npy file, as np.save writes them
/// (version 2.0 only for a header too long for 1.0): the header padded with
/// spaces and ended by "\n" so that the data starts at a multiple of 64.
/// Errors if the dtype is not supported or the data does not match the
/// shape.
Expected<std::vector<uint8_t>> serializeNpy(const NpyArray &array);

/// Writes `array` to `path` as serializeNpy lays it out; errors read
/// "PATH: ...".
Status writeNpy(const std::string &path, const NpyArray &array);

/// The integers of an I32 or I64 array, widened to int64.
Expected<std::vector<int64_t>> toInt64(const NpyArray &array);

/// NumPy's name of `dtype` ("float32", "int64", "bfloat16", ...).
const char *numpyTypeName(DType dtype);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_NPY_H

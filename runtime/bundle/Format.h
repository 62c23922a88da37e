//===- Format.h - the bytes of a bundle file around its FlatBuffer -*- C++ -*-===//
//
// A bundle file is the FlatBuffer of runtime/schema/bundle.fbs, then (with
// --embed-weights) the weights blob aligned to 64 bytes, then a 32-byte
// trailer that says where each part is and checksums the FlatBuffer, so that
// a truncated or corrupted bundle is caught before any of it is trusted.
// Shared by the bundle writer (compiler/) and the loader (runtime/bundle/).
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_BUNDLE_FORMAT_H
#define LATHE_RUNTIME_BUNDLE_FORMAT_H

#include <cstddef>
#include <cstdint>

namespace lathe::rt {

/// The bundle version this code reads and writes (Bundle.version).
constexpr uint32_t kBundleVersion = 1;

/// The last 8 bytes of every bundle file.
constexpr char kTrailerMagic[8] = {'L', 'A', 'T', 'H', 'E', 'B', 'D', 'L'};

/// The FlatBuffers file identifier (bytes 4..8 of the file).
constexpr char kBundleIdentifier[5] = "LATH";

/// Embedded weights start at a multiple of this, and so does the data of
/// each embedded weight.
constexpr uint64_t kBlobAlignment = 64;

/// The last 32 bytes of a bundle file, every field little-endian.
struct BundleTrailer {
  uint64_t flatbufferSize = 0; // the FlatBuffer is bytes [0, flatbufferSize)
  uint64_t blobOffset = 0;     // the embedded weights blob, or 0 if none
  uint64_t checksum = 0;       // fnv1a64 of bytes [0, flatbufferSize)
  char magic[8] = {};
};
static_assert(sizeof(BundleTrailer) == 32, "the trailer is 32 bytes");

/// 64-bit FNV-1a, continuing from `hash` (start with the default).
inline uint64_t fnv1a64(const void *data, size_t size,
                        uint64_t hash = 0xcbf29ce484222325ull) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

} // namespace lathe::rt

#endif // LATHE_RUNTIME_BUNDLE_FORMAT_H

//===- Bundle.h - a loaded and checked bundle file -------------*- C++ -*-===//
//
// A Bundle is a bundle file that passed every check of
// docs/bundle-format.md: the trailer, the checksum, FlatBuffers' verifier,
// the identifier and version, then the semantic rules (validateBundle).
// After that the rest of the runtime may index any table with the indices
// the bundle holds. Weight files are not opened here (WeightStore does
// that), so that lathe-inspect can read a bundle without its checkpoint.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_BUNDLE_BUNDLE_H
#define LATHE_RUNTIME_BUNDLE_BUNDLE_H

#include "runtime/bundle/Format.h"
#include "runtime/schema/bundle_generated.h"
#include "runtime/support/MappedFile.h"
#include "runtime/support/Status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::rt {

class Bundle {
public:
  /// Maps and checks the bundle file at `path`. Errors read "PATH: ...".
  static Expected<Bundle> open(const std::string &path);

  /// Checks `bytes` as a bundle file named `name` in messages, whose weight
  /// files are relative to `directory`.
  static Expected<Bundle> fromBytes(std::vector<uint8_t> bytes,
                                    std::string name, std::string directory);

  /// The root table; every index in it has been checked.
  const lathe::bundle::Bundle &root() const { return *table; }

  /// The file as given to open(), or fromBytes's name.
  const std::string &name() const { return storage->name; }
  /// The directory weight file paths are relative to ("." for a bare name).
  const std::string &directory() const { return storage->directory; }

  /// The whole file.
  const uint8_t *fileData() const { return storage->data; }
  uint64_t fileSize() const { return storage->size; }
  const BundleTrailer &trailer() const { return storage->trailer; }
  /// The embedded weights blob, or size 0 when the bundle has none.
  const uint8_t *blobData() const;
  uint64_t blobSize() const;

  /// The index of function / target `name`, or -1.
  int64_t findFunction(std::string_view name) const;
  int64_t findTarget(std::string_view name) const;

private:
  struct Storage {
    std::string name, directory;
    std::optional<MappedFile> mapped;
    std::vector<uint8_t> owned;
    const uint8_t *data = nullptr;
    uint64_t size = 0;
    BundleTrailer trailer;
  };

  explicit Bundle(std::unique_ptr<Storage> storage);
  /// Every check, on storage's bytes; errors carry no file name.
  static Expected<Bundle> check(std::unique_ptr<Storage> storage);

  // Behind a pointer so that moving a Bundle keeps `table` valid.
  std::unique_ptr<Storage> storage;
  const lathe::bundle::Bundle *table = nullptr;
};

/// The directory of `path` for resolving relative files: "." for "m.lathe",
/// "a" for "a/m.lathe", "/" for "/m.lathe".
std::string directoryOf(const std::string &path);

/// `relative` under `directory` ("dir/relative"; "relative" for ".").
std::string joinPath(const std::string &directory, const std::string &relative);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_BUNDLE_BUNDLE_H

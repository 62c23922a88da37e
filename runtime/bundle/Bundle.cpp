//===- Bundle.cpp - a loaded and checked bundle file ----------------------===//

#include "runtime/bundle/Bundle.h"

#include "runtime/bundle/Validate.h"
#include "runtime/support/Text.h"

#include <cstring>

using namespace lathe::rt;

namespace {

uint64_t readLE64(const uint8_t *bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | bytes[i];
  return value;
}

/// FlatBuffers' verifier (and its offsets) cannot address this many bytes.
constexpr uint64_t maxFlatbufferSize = FLATBUFFERS_MAX_BUFFER_SIZE;

/// Tables FlatBuffers' verifier walks before giving up: far above what the
/// largest model needs (a few per step), low enough to bound the work.
constexpr flatbuffers::uoffset_t maxTables = 1u << 26;

} // namespace

Bundle::Bundle(std::unique_ptr<Storage> storage) : storage(std::move(storage)) {
  table = lathe::bundle::GetBundle(this->storage->data);
}

Expected<Bundle> Bundle::open(const std::string &path) {
  Expected<MappedFile> file = MappedFile::open(path);
  if (!file)
    return file.status();
  auto storage = std::make_unique<Storage>();
  storage->name = path;
  storage->directory = directoryOf(path);
  storage->mapped.emplace(std::move(*file));
  storage->data = storage->mapped->data();
  storage->size = storage->mapped->size();
  Expected<Bundle> bundle = check(std::move(storage));
  if (!bundle)
    return bundle.status().withContext(path);
  return bundle;
}

Expected<Bundle> Bundle::fromBytes(std::vector<uint8_t> bytes, std::string name,
                                   std::string directory) {
  auto storage = std::make_unique<Storage>();
  storage->name = std::move(name);
  storage->directory = std::move(directory);
  storage->owned = std::move(bytes);
  storage->data = storage->owned.data();
  storage->size = storage->owned.size();
  std::string context = storage->name;
  Expected<Bundle> bundle = check(std::move(storage));
  if (!bundle)
    return bundle.status().withContext(context);
  return bundle;
}

Expected<Bundle> Bundle::check(std::unique_ptr<Storage> storage) {
  const uint8_t *data = storage->data;
  const uint64_t size = storage->size;
  const uint64_t trailerSize = sizeof(BundleTrailer);

  // The trailer first: nothing else is trusted until it has been checked.
  if (size < trailerSize)
    return makeError("not a lathe bundle: ", size,
                     " bytes is shorter than the ", trailerSize,
                     "-byte trailer");
  const uint8_t *end = data + size - trailerSize;
  if (std::memcmp(end + 24, kTrailerMagic, sizeof(kTrailerMagic)) != 0)
    return Status::error("not a lathe bundle: the file does not end with the "
                         "trailer magic 'LATHEBDL' (truncated, or not a "
                         "bundle)");
  BundleTrailer &trailer = storage->trailer;
  trailer.flatbufferSize = readLE64(end);
  trailer.blobOffset = readLE64(end + 8);
  trailer.checksum = readLE64(end + 16);
  std::memcpy(trailer.magic, end + 24, sizeof(trailer.magic));

  const uint64_t trailerStart = size - trailerSize;
  const uint64_t flatbufferSize = trailer.flatbufferSize;
  if (flatbufferSize < 8 || flatbufferSize > trailerStart)
    return makeError("trailer: the FlatBuffer's size ", flatbufferSize,
                     " does not fit before the trailer at byte ", trailerStart,
                     " (a truncated bundle?)");
  if (trailer.blobOffset != 0) {
    if (trailer.blobOffset % kBlobAlignment != 0)
      return makeError("trailer: the embedded weights offset ",
                       trailer.blobOffset, " is not a multiple of ",
                       kBlobAlignment);
    if (trailer.blobOffset < flatbufferSize ||
        trailer.blobOffset > trailerStart)
      return makeError("trailer: the embedded weights offset ",
                       trailer.blobOffset, " is outside [", flatbufferSize,
                       ", ", trailerStart,
                       "], between the FlatBuffer and the trailer");
  }
  uint64_t checksum = fnv1a64(data, size_t(flatbufferSize));
  if (checksum != trailer.checksum)
    return makeError("checksum mismatch: the FlatBuffer's FNV-1a-64 is ",
                     hex64(checksum), " but the trailer records ",
                     hex64(trailer.checksum), " (the bundle is corrupted)");

  if (!lathe::bundle::BundleBufferHasIdentifier(data))
    return Status::error("the FlatBuffer lacks the file identifier 'LATH': "
                         "not a lathe bundle");
  if (flatbufferSize >= maxFlatbufferSize)
    return makeError("the FlatBuffer is ", flatbufferSize,
                     " bytes; FlatBuffers cannot address more than ",
                     maxFlatbufferSize);
  flatbuffers::Verifier::Options options;
  options.max_tables = maxTables;
  flatbuffers::Verifier verifier(data, size_t(flatbufferSize), options);
  if (!lathe::bundle::VerifyBundleBuffer(verifier))
    return Status::error("the FlatBuffer fails FlatBuffers' verifier (not a "
                         "valid lathe.bundle.Bundle)");

  const lathe::bundle::Bundle *root = lathe::bundle::GetBundle(data);
  if (root->version() != kBundleVersion)
    return makeError("bundle version ", root->version(),
                     " is not the version this runtime reads (", kBundleVersion,
                     ")");

  BundleExtent extent;
  extent.base = data;
  extent.blobSize =
      trailer.blobOffset == 0 ? 0 : trailerStart - trailer.blobOffset;
  extent.hasBlob = trailer.blobOffset != 0;
  if (Status status = validateBundle(*root, extent); !status.ok())
    return status;
  return Bundle(std::move(storage));
}

const uint8_t *Bundle::blobData() const {
  if (storage->trailer.blobOffset == 0)
    return nullptr;
  return storage->data + storage->trailer.blobOffset;
}

uint64_t Bundle::blobSize() const {
  if (storage->trailer.blobOffset == 0)
    return 0;
  return storage->size - sizeof(BundleTrailer) - storage->trailer.blobOffset;
}

int64_t Bundle::findFunction(std::string_view name) const {
  const auto *functions = table->functions();
  for (uint32_t i = 0; functions && i < functions->size(); ++i)
    if (functions->Get(i)->name()->string_view() == name)
      return i;
  return -1;
}

int64_t Bundle::findTarget(std::string_view name) const {
  const auto *targets = table->targets();
  for (uint32_t i = 0; targets && i < targets->size(); ++i)
    if (targets->Get(i)->name()->string_view() == name)
      return i;
  return -1;
}

std::string lathe::rt::directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

std::string lathe::rt::joinPath(const std::string &directory,
                                const std::string &relative) {
  if (directory.empty() || directory == ".")
    return relative;
  if (directory.back() == '/')
    return directory + relative;
  return directory + "/" + relative;
}

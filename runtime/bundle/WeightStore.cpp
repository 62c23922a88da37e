//===- WeightStore.cpp - a bundle's weights, mapped and checked -----------===//

#include "runtime/bundle/WeightStore.h"

#include "runtime/bundle/Format.h"
#include "runtime/support/Text.h"

using namespace lathe::rt;
namespace fb = lathe::bundle;

Expected<WeightStore> WeightStore::open(const Bundle &bundle) {
  const fb::Bundle &root = bundle.root();
  WeightStore store;
  std::vector<const uint8_t *> bases;
  const auto *files = root.weight_files();
  for (uint32_t i = 0; files && i < files->size(); ++i) {
    const fb::WeightFile *file = files->Get(i);
    std::string where =
        bundle.name() + ": weight_files[" + std::to_string(i) + "]";
    if (file->path()->size() == 0) {
      // The loader checked that the blob exists and has this size.
      bases.push_back(bundle.blobData());
      store.paths.emplace_back();
      continue;
    }
    std::string path = joinPath(bundle.directory(), file->path()->str());
    Expected<MappedFile> mapped = MappedFile::open(path);
    if (!mapped)
      return mapped.status().withContext(where);
    if (mapped->size() != file->size())
      return makeError(where, ": ", path, ": the file is ", mapped->size(),
                       " bytes but the bundle was compiled against one of ",
                       file->size(), " bytes (a different checkpoint?)");
    uint64_t checksum = fnv1a64(mapped->data(), size_t(file->header_size()));
    // A header_size of 0 has nothing to check, whatever the checksum field
    // holds.
    if (file->header_size() != 0 && checksum != file->header_checksum())
      return makeError(where, ": ", path, ": the FNV-1a-64 of its first ",
                       file->header_size(), " bytes is ", hex64(checksum),
                       " but the bundle records ",
                       hex64(file->header_checksum()),
                       " (the checkpoint changed since it was compiled)");
    bases.push_back(mapped->data());
    store.files.push_back(std::move(*mapped));
    store.paths.push_back(std::move(path));
  }

  const auto *weights = root.weights();
  for (uint32_t i = 0; weights && i < weights->size(); ++i) {
    const fb::Weight *weight = weights->Get(i);
    // Offsets were checked against the declared size, which now equals
    // the mapped one. An empty file maps to null; offset 0 stays null.
    const uint8_t *base = bases[weight->file()];
    store.weights.push_back(base ? base + weight->offset() : nullptr);
  }
  return store;
}

//===- Catalog.cpp - the tensors of a checkpoint directory ----------------===//
//
// A checkpoint's weights are one `model.safetensors`, or shards listed by
// `model.safetensors.index.json`, or (without an index) every `*.safetensors`
// file in the directory. The headers are read by the runtime's safetensors
// reader, which validates them; this file turns them into the catalog the
// importer checks config.json against, and cross-checks the index.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/Importer.h"

#include "runtime/support/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace lathe;
using namespace lathe::hf;
using llvm::formatv;
using llvm::StringRef;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error toError(const rt::Status &status) {
  return makeError(status.message());
}

/// The `*.safetensors` files directly in `dir`, sorted by name.
llvm::Expected<std::vector<std::string>> listWeightFiles(StringRef dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (name.ends_with(".safetensors"))
      files.push_back(name.str());
  }
  if (ec)
    return makeError(formatv("{0}: cannot list the directory: {1}", dir,
                             ec.message()));
  llvm::sort(files);
  return files;
}

/// The shard files named by an index, in first-mention order, after checking
/// that every tensor it lists is in the shard it names.
llvm::Expected<std::vector<std::string>>
readIndex(StringRef dir, StringRef indexPath,
          std::vector<std::pair<std::string, std::string>> &weightMap) {
  auto buffer = llvm::MemoryBuffer::getFile(indexPath, /*IsText=*/true);
  if (!buffer)
    return makeError(formatv("{0}: cannot read: {1}", indexPath,
                             buffer.getError().message()));
  rt::Expected<rt::SafetensorsIndex> index =
      rt::parseSafetensorsIndex((*buffer)->getBuffer().str());
  if (!index)
    return toError(index.status().withContext(indexPath.str()));
  weightMap = std::move(index->weightMap);
  std::vector<std::string> files;
  llvm::StringSet<> seen;
  for (const auto &[tensor, file] : weightMap)
    if (seen.insert(file).second)
      files.push_back(file);
  if (files.empty())
    return makeError(formatv("{0}: weight_map lists no tensors", indexPath));
  return files;
}

} // namespace

llvm::Expected<TensorCatalog> lathe::hf::readTensorCatalog(StringRef dir) {
  llvm::SmallString<256> indexPath(dir);
  llvm::sys::path::append(indexPath, "model.safetensors.index.json");
  std::vector<std::pair<std::string, std::string>> weightMap;
  bool indexed = llvm::sys::fs::exists(indexPath);
  llvm::Expected<std::vector<std::string>> files =
      indexed ? readIndex(dir, indexPath, weightMap) : listWeightFiles(dir);
  if (!files)
    return files.takeError();
  if (files->empty())
    return makeError(formatv("{0}: no weight files: expected model.safetensors, "
                             "*.safetensors shards, or "
                             "model.safetensors.index.json",
                             dir));

  TensorCatalog catalog;
  for (const std::string &file : *files) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    if (indexed && !llvm::sys::fs::exists(path))
      return makeError(formatv("{0}: names shard '{1}', which is not in {2}",
                               indexPath, file, dir));
    rt::Expected<rt::SafetensorsFile> st =
        rt::SafetensorsFile::open(path.str().str());
    if (!st)
      return toError(st.status());
    for (const rt::TensorEntry &entry : st->header().tensors) {
      TensorInfo info{file, rt::dtypeName(entry.dtype), entry.shape,
                      static_cast<int64_t>(entry.dataBegin)};
      auto [it, inserted] = catalog.try_emplace(entry.name, std::move(info));
      if (!inserted)
        return makeError(formatv("{0}: tensor '{1}' is also in {2}", path,
                                 entry.name, it->second.file));
    }
  }

  // An index that disagrees with its shards would make the importer pick
  // tensors the user did not mean.
  for (const auto &[tensor, file] : weightMap) {
    auto it = catalog.find(tensor);
    if (it == catalog.end())
      return makeError(formatv("{0}: lists tensor '{1}' in {2}, which has no "
                               "such tensor",
                               indexPath, tensor, file));
    if (it->second.file != file)
      return makeError(formatv("{0}: lists tensor '{1}' in {2}, but it is in "
                               "{3}",
                               indexPath, tensor, file, it->second.file));
  }
  return catalog;
}

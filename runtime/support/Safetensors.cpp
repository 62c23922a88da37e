//===- Safetensors.cpp - the safetensors weight format --------------------===//

#include "runtime/support/Safetensors.h"

#include "runtime/support/Json.h"
#include "runtime/support/Text.h"

#include <algorithm>
#include <limits>
#include <sstream>

using namespace lathe::rt;

namespace {

/// The JSON header of a real checkpoint is a few MiB at most; a larger
/// length is corruption, not a header worth allocating for.
constexpr uint64_t maxHeaderBytes = uint64_t(100) << 20;

constexpr const char *metadataKey = "__metadata__";

/// Reads one tensor entry. `dataSize` is the size of the data section.
Status parseEntry(const std::string &name, const json::Value &value,
                  uint64_t dataStart, uint64_t dataSize, TensorEntry &entry) {
  std::string at = "tensor '" + printable(name) + "': ";
  if (!value.isObject())
    return makeError(at, "must be an object, got ",
                     json::kindName(value.kind()));
  entry.name = name;

  const json::Value *dtype = value.find("dtype");
  if (!dtype)
    return makeError(at, "missing 'dtype'");
  if (!dtype->isString())
    return makeError(at, "'dtype' must be a string, got ",
                     json::kindName(dtype->kind()));
  std::optional<DType> parsedDType = parseDType(dtype->asString());
  if (!parsedDType)
    return makeError(at, "unknown dtype '", printable(dtype->asString()), "'");
  entry.dtype = *parsedDType;
  const uint64_t elementSize = dtypeSize(entry.dtype);

  const json::Value *shape = value.find("shape");
  if (!shape)
    return makeError(at, "missing 'shape'");
  if (!shape->isArray())
    return makeError(at, "'shape' must be an array of integers, got ",
                     json::kindName(shape->kind()));
  // The bytes of the non-zero dims must fit in int64, so that byte sizes and
  // strides computed from the shape never overflow.
  const uint64_t maxBytes = uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t bytes = elementSize;
  for (size_t i = 0; i < shape->asArray().size(); ++i) {
    const json::Value &dim = shape->asArray()[i];
    if (!dim.isInt())
      return makeError(at, "shape dimension ", i, " must be an integer, got ",
                       json::kindName(dim.kind()));
    if (dim.asInt() < 0)
      return makeError(at, "shape dimension ", i, " is negative (", dim.asInt(),
                       ")");
    entry.shape.push_back(dim.asInt());
  }
  for (int64_t dim : entry.shape) {
    if (dim == 0)
      continue;
    if (bytes > maxBytes / uint64_t(dim))
      return makeError(at, "shape ", formatShape(entry.shape), " of ",
                       dtypeName(entry.dtype),
                       " is too large: its size overflows 2^63 bytes");
    bytes *= uint64_t(dim);
  }
  const uint64_t needed = entry.numElements() * elementSize;

  const json::Value *offsets = value.find("data_offsets");
  if (!offsets)
    return makeError(at, "missing 'data_offsets'");
  bool wellFormed = offsets->isArray() && offsets->asArray().size() == 2;
  for (size_t i = 0; wellFormed && i < 2; ++i) {
    const json::Value &offset = offsets->asArray()[i];
    wellFormed = offset.isInt() && offset.asInt() >= 0;
  }
  if (!wellFormed)
    return makeError(at, "'data_offsets' must be an array of two "
                         "non-negative integers");
  uint64_t begin = uint64_t(offsets->asArray()[0].asInt());
  uint64_t end = uint64_t(offsets->asArray()[1].asInt());
  if (begin > end)
    return makeError(at, "data_offsets [", begin, ", ", end,
                     ") end before they begin");
  if (end > dataSize)
    return makeError(at, "data_offsets [", begin, ", ", end,
                     ") lie outside the data section of ", dataSize, " bytes");
  if (end - begin != needed)
    return makeError(at, "data_offsets span ", end - begin, " bytes but shape ",
                     formatShape(entry.shape), " of ", dtypeName(entry.dtype),
                     " needs ", needed, " bytes");
  // dataStart + dataSize is the file size, so neither sum overflows.
  entry.dataBegin = dataStart + begin;
  entry.dataEnd = dataStart + end;
  return Status::success();
}

Status parseMetadata(const json::Value &value,
                     std::vector<std::pair<std::string, std::string>> &out) {
  if (!value.isObject())
    return makeError("'", metadataKey, "' must be an object of strings, got ",
                     json::kindName(value.kind()));
  for (const auto &[key, member] : value.asObject()) {
    if (!member.isString())
      return makeError("'", metadataKey, "' entry '", printable(key),
                       "' must be a string, got ",
                       json::kindName(member.kind()));
    out.emplace_back(key, member.asString());
  }
  return Status::success();
}

/// Rejects two tensors sharing a byte: a writer bug that would alias weights.
Status checkOverlaps(const SafetensorsHeader &header) {
  std::vector<const TensorEntry *> sorted;
  for (const TensorEntry &entry : header.tensors)
    if (entry.dataBegin != entry.dataEnd)
      sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorEntry *a, const TensorEntry *b) {
              return std::make_pair(a->dataBegin, a->dataEnd) <
                     std::make_pair(b->dataBegin, b->dataEnd);
            });
  // The tensor reaching furthest so far; sorted by begin, any later tensor
  // that starts before its end overlaps it.
  const TensorEntry *furthest = nullptr;
  for (const TensorEntry *entry : sorted) {
    if (furthest && entry->dataBegin < furthest->dataEnd) {
      uint64_t start = header.dataStart;
      return makeError("tensor '", printable(entry->name), "': data_offsets [",
                       entry->dataBegin - start, ", ", entry->dataEnd - start,
                       ") overlap tensor '", printable(furthest->name),
                       "' at [", furthest->dataBegin - start, ", ",
                       furthest->dataEnd - start, ")");
    }
    if (!furthest || entry->dataEnd > furthest->dataEnd)
      furthest = entry;
  }
  return Status::success();
}

bool isPlainFileName(const std::string &name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

} // namespace

uint64_t TensorEntry::numElements() const {
  uint64_t count = 1;
  for (int64_t dim : shape)
    count *= uint64_t(dim);
  return count;
}

const TensorEntry *SafetensorsHeader::find(std::string_view name) const {
  for (const TensorEntry &entry : tensors)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

Expected<SafetensorsHeader>
lathe::rt::parseSafetensorsHeader(const uint8_t *bytes, size_t size,
                                  uint64_t fileSize) {
  if (size > fileSize)
    return makeError("given ", size, " bytes of a file of only ", fileSize);
  if (fileSize < 8)
    return makeError("file is ", fileSize,
                     " bytes, too short for the 8-byte header length");
  if (size < 8)
    return makeError("only ", size,
                     " bytes given, fewer than the 8-byte "
                     "header length");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | bytes[i];
  if (headerSize > fileSize - 8)
    return makeError("header length ", headerSize, " exceeds the file size (",
                     fileSize, " bytes)");
  if (headerSize > maxHeaderBytes)
    return makeError("header length ", headerSize,
                     " is absurd (more than 100 MiB)");
  if (headerSize > size - 8)
    return makeError("header length ", headerSize, " needs ", 8 + headerSize,
                     " bytes, only ", size, " given");

  SafetensorsHeader header;
  header.headerSize = headerSize;
  header.dataStart = 8 + headerSize;
  header.fileSize = fileSize;
  const uint64_t dataSize = fileSize - header.dataStart;

  json::ParseOptions options;
  options.maxBytes = maxHeaderBytes;
  options.allowDuplicateKeys = false;
  Expected<json::Value> parsed =
      json::parse(std::string_view(reinterpret_cast<const char *>(bytes) + 8,
                                   size_t(headerSize)),
                  options);
  if (!parsed)
    return makeError("header is not JSON: ", parsed.status().message());
  if (!parsed->isObject())
    return makeError("header must be a JSON object, got ",
                     json::kindName(parsed->kind()));

  for (const auto &[name, value] : parsed->asObject()) {
    if (name == metadataKey) {
      if (Status status = parseMetadata(value, header.metadata); !status.ok())
        return status;
      continue;
    }
    TensorEntry entry;
    if (Status status =
            parseEntry(name, value, header.dataStart, dataSize, entry);
        !status.ok())
      return status;
    header.tensors.push_back(std::move(entry));
  }
  if (Status status = checkOverlaps(header); !status.ok())
    return status;
  return header;
}

Expected<SafetensorsFile> SafetensorsFile::open(const std::string &path) {
  Expected<MappedFile> file = MappedFile::open(path);
  if (!file)
    return file.status();
  Expected<SafetensorsHeader> header =
      parseSafetensorsHeader(file->data(), size_t(file->size()), file->size());
  if (!header)
    return header.status().withContext(path);
  return SafetensorsFile(std::move(*file), std::move(*header));
}

Expected<SafetensorsIndex>
lathe::rt::parseSafetensorsIndex(std::string_view text) {
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return makeError("index is not JSON: ", parsed.status().message());
  if (!parsed->isObject())
    return makeError("index must be a JSON object, got ",
                     json::kindName(parsed->kind()));
  const json::Value *weightMap = parsed->find("weight_map");
  if (!weightMap)
    return makeError("index has no 'weight_map'");
  if (!weightMap->isObject())
    return makeError("'weight_map' must be an object, got ",
                     json::kindName(weightMap->kind()));

  SafetensorsIndex index;
  for (const auto &[tensor, file] : weightMap->asObject()) {
    std::string at = "'weight_map' entry '" + printable(tensor) + "'";
    if (!file.isString())
      return makeError(at, " must be a string, got ",
                       json::kindName(file.kind()));
    if (!isPlainFileName(file.asString()))
      return makeError(at, ": '", printable(file.asString()),
                       "' is not a plain file name in the model directory");
    index.weightMap.emplace_back(tensor, file.asString());
  }
  return index;
}

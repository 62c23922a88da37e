//===- SafetensorsTest.cpp - safetensors headers, files and indexes -------===//

#include "runtime/support/Safetensors.h"

#include "tests/unit/runtime/TempDir.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace lathe::rt;
using lathe::rt::testing::TempDir;

namespace {

/// A safetensors file: the 8-byte length, `header`, then `data`.
std::string makeFile(const std::string &header, const std::string &data) {
  std::string file;
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
    file += char((length >> (8 * i)) & 0xff);
  return file + header + data;
}

/// A file whose data section is `dataBytes` zero bytes.
std::string makeFile(const std::string &header, size_t dataBytes) {
  return makeFile(header, std::string(dataBytes, '\0'));
}

Expected<SafetensorsHeader> parseFile(const std::string &file) {
  return parseSafetensorsHeader(reinterpret_cast<const uint8_t *>(file.data()),
                                file.size(), file.size());
}

std::string headerError(const std::string &header, size_t dataBytes) {
  Expected<SafetensorsHeader> parsed = parseFile(makeFile(header, dataBytes));
  EXPECT_FALSE(parsed.ok()) << "accepted: " << header;
  return parsed.status().message();
}

/// One BF16 tensor 'w' of shape [2, 2] at the given offsets.
std::string oneTensor(const std::string &fields) {
  return R"({"w":{)" + fields + "}}";
}

//===----------------------------------------------------------------------===//
// Valid headers
//===----------------------------------------------------------------------===//

TEST(SafetensorsHeader, ReadsTensorsInDocumentOrder) {
  std::string header =
      R"({"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
      R"("a":{"dtype":"F32","shape":[],"data_offsets":[12,16]},)"
      R"("e":{"dtype":"F8_E4M3","shape":[4,0,7],"data_offsets":[16,16]},)"
      R"("__metadata__":{"format":"pt"}})";
  std::string file = makeFile(header, 16);
  Expected<SafetensorsHeader> parsed = parseFile(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->headerSize, header.size());
  EXPECT_EQ(parsed->dataStart, 8 + header.size());
  EXPECT_EQ(parsed->fileSize, file.size());
  ASSERT_EQ(parsed->tensors.size(), 3u);

  const TensorEntry &b = parsed->tensors[0];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_EQ(b.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b.numElements(), 6u);
  EXPECT_EQ(b.dataBegin, parsed->dataStart);
  EXPECT_EQ(b.dataEnd, parsed->dataStart + 12);

  const TensorEntry &a = parsed->tensors[1];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numElements(), 1u);
  EXPECT_EQ(a.dataBegin, parsed->dataStart + 12);

  const TensorEntry &e = parsed->tensors[2];
  EXPECT_EQ(e.dtype, DType::F8E4M3);
  EXPECT_EQ(e.numElements(), 0u);
  EXPECT_EQ(e.dataBegin, e.dataEnd);

  ASSERT_EQ(parsed->metadata.size(), 1u);
  EXPECT_EQ(parsed->metadata[0].first, "format");
  EXPECT_EQ(parsed->metadata[0].second, "pt");

  EXPECT_EQ(parsed->find("a"), &parsed->tensors[1]);
  EXPECT_EQ(parsed->find("__metadata__"), nullptr);
  EXPECT_EQ(parsed->find("c"), nullptr);
}

TEST(SafetensorsHeader, EmptyHeaderAndPadding) {
  Expected<SafetensorsHeader> empty = parseFile(makeFile("{}", 0));
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_TRUE(empty->tensors.empty());
  EXPECT_EQ(empty->dataStart, 10u);

  // Writers pad the header with spaces to align the data section.
  Expected<SafetensorsHeader> padded = parseFile(makeFile(
      oneTensor(R"("dtype":"BF16","shape":[2,2],"data_offsets":[0,8])") +
          "      ",
      8));
  ASSERT_TRUE(padded.ok()) << padded.status().message();
  EXPECT_EQ(padded->tensors.at(0).numElements(), 4u);
}

TEST(SafetensorsHeader, ZeroElementTensors) {
  std::string header =
      R"({"z":{"dtype":"I64","shape":[0],"data_offsets":[4,4]},)"
      R"("y":{"dtype":"F64","shape":[0,3],"data_offsets":[0,0]},)"
      R"("x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
      R"("end":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}})";
  Expected<SafetensorsHeader> parsed = parseFile(makeFile(header, 4));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->tensors.size(), 4u);
}

TEST(SafetensorsHeader, AllDTypesAreAccepted) {
  std::string header = "{";
  uint64_t offset = 0;
  const char *names[] = {"BOOL", "U8",   "I8",  "U16",     "I16",
                         "F16",  "BF16", "U32", "I32",     "F32",
                         "U64",  "I64",  "F64", "F8_E4M3", "F8_E5M2"};
  for (const char *name : names) {
    uint64_t size = dtypeSize(*parseDType(name)) * 3;
    header += std::string(offset ? "," : "") + "\"t" + name +
              "\":{\"dtype\":\"" + name +
              "\",\"shape\":[3],\"data_offsets\":[" + std::to_string(offset) +
              "," + std::to_string(offset + size) + "]}";
    offset += size;
  }
  header += "}";
  Expected<SafetensorsHeader> parsed = parseFile(makeFile(header, offset));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->tensors.size(), 15u);
  EXPECT_EQ(parsed->find("tF8_E5M2")->dtype, DType::F8E5M2);
}

//===----------------------------------------------------------------------===//
// The length prefix
//===----------------------------------------------------------------------===//

TEST(SafetensorsHeader, FileTooShortForTheLength) {
  std::string file = "\x02\0\0\0\0";
  Expected<SafetensorsHeader> parsed = parseSafetensorsHeader(
      reinterpret_cast<const uint8_t *>(file.data()), 5, 5);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "file is 5 bytes, too short for the 8-byte header length");
  Expected<SafetensorsHeader> empty = parseSafetensorsHeader(nullptr, 0, 0);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "file is 0 bytes, too short for the 8-byte header length");
}

TEST(SafetensorsHeader, HeaderLengthExceedsTheFile) {
  std::string file = makeFile("{}", 0);
  file[0] = 3; // one byte more than the file holds
  Expected<SafetensorsHeader> parsed = parseFile(file);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "header length 3 exceeds the file size (10 bytes)");

  std::string huge = makeFile("{}", 0);
  for (int i = 0; i < 8; ++i)
    huge[i] = '\xff';
  parsed = parseFile(huge);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "header length 18446744073709551615 exceeds the file size (10 "
            "bytes)");
}

TEST(SafetensorsHeader, AbsurdHeaderLength) {
  // A 1 GiB file whose header claims 200 MiB: only the prefix is read.
  std::string prefix = makeFile("", 0);
  uint64_t length = uint64_t(200) << 20;
  for (int i = 0; i < 8; ++i)
    prefix[i] = char((length >> (8 * i)) & 0xff);
  Expected<SafetensorsHeader> parsed =
      parseSafetensorsHeader(reinterpret_cast<const uint8_t *>(prefix.data()),
                             prefix.size(), uint64_t(1) << 30);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "header length 209715200 is absurd (more than 100 MiB)");
}

TEST(SafetensorsHeader, PrefixMustHoldTheHeader) {
  std::string file = makeFile("{}", 0);
  Expected<SafetensorsHeader> parsed = parseSafetensorsHeader(
      reinterpret_cast<const uint8_t *>(file.data()), 9, file.size());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "header length 2 needs 10 bytes, only 9 given");
  parsed = parseSafetensorsHeader(
      reinterpret_cast<const uint8_t *>(file.data()), 4, file.size());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "only 4 bytes given, fewer than the 8-byte header length");
  parsed = parseSafetensorsHeader(
      reinterpret_cast<const uint8_t *>(file.data()), file.size(), 3);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "given 10 bytes of a file of only 3");
}

//===----------------------------------------------------------------------===//
// The JSON header
//===----------------------------------------------------------------------===//

TEST(SafetensorsHeader, HeaderNotJson) {
  EXPECT_EQ(headerError("{\"w\":", 0),
            "header is not JSON: JSON at byte 5: expected a value, got the "
            "end of the input");
  EXPECT_EQ(headerError(std::string("{}\0\0", 4), 0),
            "header is not JSON: JSON at byte 2: unexpected byte 0x00 after "
            "the JSON value");
  EXPECT_EQ(headerError("{\"\xff\":1}", 0),
            "header is not JSON: JSON at byte 2: invalid UTF-8: byte 0xFF "
            "cannot start a character");
}

TEST(SafetensorsHeader, HeaderNotAnObject) {
  EXPECT_EQ(headerError("[]", 0), "header must be a JSON object, got an array");
  EXPECT_EQ(headerError("\"w\"", 0),
            "header must be a JSON object, got a string");
}

TEST(SafetensorsHeader, EntryNotAnObject) {
  EXPECT_EQ(headerError(R"({"w":[0,8]})", 8),
            "tensor 'w': must be an object, got an array");
}

TEST(SafetensorsHeader, DuplicateTensorNames) {
  std::string entry = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  EXPECT_EQ(headerError("{\"w\":" + entry + ",\"w\":" + entry + "}", 1),
            "header is not JSON: JSON at byte 53: duplicate key 'w'");
}

TEST(SafetensorsHeader, DuplicateFieldsInAnEntry) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"U8","dtype":"I8","shape":[1],)"
                                  R"("data_offsets":[0,1])"),
                        1),
            "header is not JSON: JSON at byte 19: duplicate key 'dtype'");
}

TEST(SafetensorsHeader, MissingDType) {
  EXPECT_EQ(headerError(oneTensor(R"("shape":[2,2],"data_offsets":[0,8])"), 8),
            "tensor 'w': missing 'dtype'");
}

TEST(SafetensorsHeader, DTypeNotAString) {
  EXPECT_EQ(
      headerError(oneTensor(R"("dtype":2,"shape":[2,2],"data_offsets":[0,8])"),
                  8),
      "tensor 'w': 'dtype' must be a string, got an integer");
}

TEST(SafetensorsHeader, UnknownDType) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"F9","shape":[2,2],)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': unknown dtype 'F9'");
}

TEST(SafetensorsHeader, MissingShape) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","data_offsets":[0,8])"), 8),
            "tensor 'w': missing 'shape'");
}

TEST(SafetensorsHeader, ShapeNotAnArray) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":4,)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': 'shape' must be an array of integers, got an integer");
}

TEST(SafetensorsHeader, ShapeDimensionNotAnInteger) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[2,2.0],)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': shape dimension 1 must be an integer, got a number");
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":["2"],)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': shape dimension 0 must be an integer, got a string");
  // Beyond int64 the number is a double, so not a dimension.
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"U8","shape":[1e30],)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': shape dimension 0 must be an integer, got a number");
}

TEST(SafetensorsHeader, NegativeShapeDimension) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[-2,-2],)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': shape dimension 0 is negative (-2)");
}

TEST(SafetensorsHeader, ShapeSizeOverflows) {
  // 2^32 * 2^32 elements: the element count itself wraps around in uint64.
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"U8","shape":[4294967296,)"
                                  R"(4294967296],"data_offsets":[0,0])"),
                        0),
            "tensor 'w': shape [4294967296, 4294967296] of U8 is too large: "
            "its size overflows 2^63 bytes");
  // 2^62 elements fit, 2^63 bytes of BF16 do not.
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":)"
                                  R"([4611686018427387904],)"
                                  R"("data_offsets":[0,0])"),
                        0),
            "tensor 'w': shape [4611686018427387904] of BF16 is too large: "
            "its size overflows 2^63 bytes");
  // A zero dimension makes the tensor empty but does not excuse the others.
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"F64","shape":[0,)"
                                  R"(9223372036854775807],)"
                                  R"("data_offsets":[0,0])"),
                        0),
            "tensor 'w': shape [0, 9223372036854775807] of F64 is too large: "
            "its size overflows 2^63 bytes");
}

TEST(SafetensorsHeader, MissingDataOffsets) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[2,2])"), 8),
            "tensor 'w': missing 'data_offsets'");
}

TEST(SafetensorsHeader, DataOffsetsIllTyped) {
  const char *message = "tensor 'w': 'data_offsets' must be an array of two "
                        "non-negative integers";
  for (const char *offsets :
       {"\"0,8\"", "[0]", "[0,8,8]", "[0,8.0]", "[\"0\",8]", "[-1,8]", "[0,-8]",
        "[0,18446744073709551616]", "null"}) {
    SCOPED_TRACE(offsets);
    EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[2,2],)"
                                    R"("data_offsets":)" +
                                    std::string(offsets)),
                          8),
              message);
  }
}

TEST(SafetensorsHeader, DataOffsetsEndBeforeTheyBegin) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[2,2],)"
                                  R"("data_offsets":[8,0])"),
                        8),
            "tensor 'w': data_offsets [8, 0) end before they begin");
}

TEST(SafetensorsHeader, TruncatedDataSection) {
  // The header promises 8 bytes of data; the file holds 5.
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[2,2],)"
                                  R"("data_offsets":[0,8])"),
                        5),
            "tensor 'w': data_offsets [0, 8) lie outside the data section of "
            "5 bytes");
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"U8","shape":[0],)"
                                  R"("data_offsets":[9223372036854775807,)"
                                  R"(9223372036854775807])"),
                        8),
            "tensor 'w': data_offsets [9223372036854775807, "
            "9223372036854775807) lie outside the data section of 8 bytes");
}

TEST(SafetensorsHeader, SpanDiffersFromShape) {
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"BF16","shape":[2,2],)"
                                  R"("data_offsets":[0,6])"),
                        8),
            "tensor 'w': data_offsets span 6 bytes but shape [2, 2] of BF16 "
            "needs 8 bytes");
  EXPECT_EQ(headerError(oneTensor(R"("dtype":"F32","shape":[],)"
                                  R"("data_offsets":[0,8])"),
                        8),
            "tensor 'w': data_offsets span 8 bytes but shape [] of F32 needs "
            "4 bytes");
}

TEST(SafetensorsHeader, OverlappingTensors) {
  std::string header =
      R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]},)"
      R"("c":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})";
  EXPECT_EQ(headerError(header, 12),
            "tensor 'c': data_offsets [6, 8) overlap tensor 'a' at [0, 8)");
  // A tensor inside a larger one that ended earlier in sorted order.
  std::string nested =
      R"({"big":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},)"
      R"("mid":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},)"
      R"("in":{"dtype":"U8","shape":[2],"data_offsets":[5,7]}})";
  EXPECT_EQ(
      headerError(nested, 10),
      "tensor 'mid': data_offsets [1, 3) overlap tensor 'big' at [0, 10)");
  std::string same = R"({"p":{"dtype":"U16","shape":[2],"data_offsets":[0,4]},)"
                     R"("q":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_EQ(headerError(same, 4),
            "tensor 'q': data_offsets [0, 4) overlap tensor 'p' at [0, 4)");
}

TEST(SafetensorsHeader, MetadataMustBeAnObjectOfStrings) {
  EXPECT_EQ(headerError(R"({"__metadata__":["pt"]})", 0),
            "'__metadata__' must be an object of strings, got an array");
  EXPECT_EQ(headerError(R"({"__metadata__":{"format":"pt","n":1}})", 0),
            "'__metadata__' entry 'n' must be a string, got an integer");
}

TEST(SafetensorsHeader, NamesInMessagesAreEscaped) {
  EXPECT_EQ(headerError(R"({"a\nb":{"dtype":"F9"}})", 0),
            "tensor 'a\\x0ab': unknown dtype 'F9'");
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

TEST(SafetensorsFile, ReadsTensorData) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string data;
  // "emb": BF16 [2, 2] = 1, 2, 3, 4 (bfloat16 is the top half of a float).
  for (uint16_t bits : {0x3F80, 0x4000, 0x4040, 0x4080}) {
    data += char(bits & 0xff);
    data += char(bits >> 8);
  }
  // "ids": I32 [3] = 7, 8, 9.
  for (int32_t v : {7, 8, 9})
    data.append(reinterpret_cast<const char *>(&v), 4);
  // "scale": F8_E4M3 [2].
  data += "\x38\x40";
  std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("emb":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},)"
      R"("ids":{"dtype":"I32","shape":[3],"data_offsets":[8,20]},)"
      R"("scale":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[20,22]}})";
  std::string path = dir.write("model.safetensors", makeFile(header, data));

  Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->file().size(), 8 + header.size() + data.size());
  const SafetensorsHeader &parsed = file->header();
  ASSERT_EQ(parsed.tensors.size(), 3u);

  const TensorEntry *emb = parsed.find("emb");
  ASSERT_NE(emb, nullptr);
  const uint8_t *bytes = file->data(*emb);
  EXPECT_EQ(bytes, file->file().data() + 8 + header.size());
  float values[4];
  for (int i = 0; i < 4; ++i) {
    uint32_t bits = uint32_t(bytes[2 * i] | bytes[2 * i + 1] << 8) << 16;
    std::memcpy(&values[i], &bits, 4);
  }
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
  EXPECT_EQ(values[2], 3.0f);
  EXPECT_EQ(values[3], 4.0f);

  const TensorEntry *ids = parsed.find("ids");
  ASSERT_NE(ids, nullptr);
  int32_t idValues[3];
  std::memcpy(idValues, file->data(*ids), 12);
  EXPECT_EQ(idValues[0], 7);
  EXPECT_EQ(idValues[1], 8);
  EXPECT_EQ(idValues[2], 9);

  const TensorEntry *scale = parsed.find("scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->dataEnd, file->file().size());
  EXPECT_EQ(file->data(*scale)[0], 0x38);
  EXPECT_EQ(file->data(*scale)[1], 0x40);

  // The file stays mapped when the handle moves.
  SafetensorsFile moved = std::move(*file);
  EXPECT_EQ(moved.data(*moved.header().find("scale"))[1], 0x40);
}

TEST(SafetensorsFile, ErrorsStartWithThePath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string header = oneTensor(R"("dtype":"BF16","shape":[2,2],)"
                                 R"("data_offsets":[0,8])");
  std::string truncated = dir.write("cut.safetensors", makeFile(header, 3));
  Expected<SafetensorsFile> file = SafetensorsFile::open(truncated);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            truncated + ": tensor 'w': data_offsets [0, 8) lie outside the "
                        "data section of 3 bytes");

  std::string empty = dir.write("empty.safetensors", "");
  file = SafetensorsFile::open(empty);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            empty +
                ": file is 0 bytes, too short for the 8-byte header length");

  std::string missing = dir.path() + "/missing.safetensors";
  file = SafetensorsFile::open(missing);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            missing + ": cannot open: No such file or directory");
}

//===----------------------------------------------------------------------===//
// model.safetensors.index.json
//===----------------------------------------------------------------------===//

std::string indexError(std::string_view text) {
  Expected<SafetensorsIndex> index = parseSafetensorsIndex(text);
  EXPECT_FALSE(index.ok()) << "accepted: " << text;
  return index.status().message();
}

TEST(SafetensorsIndex, ReadsTheWeightMap) {
  Expected<SafetensorsIndex> index = parseSafetensorsIndex(R"({
    "metadata": {"total_size": 123456},
    "weight_map": {
      "model.layers.0.mlp.down_proj.weight": "model-00002-of-00002.safetensors",
      "model.embed_tokens.weight": "model-00001-of-00002.safetensors"
    }
  })");
  ASSERT_TRUE(index.ok()) << index.status().message();
  ASSERT_EQ(index->weightMap.size(), 2u);
  EXPECT_EQ(index->weightMap[0].first, "model.layers.0.mlp.down_proj.weight");
  EXPECT_EQ(index->weightMap[0].second, "model-00002-of-00002.safetensors");
  EXPECT_EQ(index->weightMap[1].first, "model.embed_tokens.weight");

  Expected<SafetensorsIndex> minimal =
      parseSafetensorsIndex(R"({"weight_map": {}})");
  ASSERT_TRUE(minimal.ok()) << minimal.status().message();
  EXPECT_TRUE(minimal->weightMap.empty());
}

TEST(SafetensorsIndex, NotJson) {
  EXPECT_EQ(indexError(R"({"weight_map": {},})"),
            "index is not JSON: JSON at byte 18: trailing comma before '}'");
}

TEST(SafetensorsIndex, NotAnObject) {
  EXPECT_EQ(indexError("[]"), "index must be a JSON object, got an array");
}

TEST(SafetensorsIndex, MissingWeightMap) {
  EXPECT_EQ(indexError(R"({"metadata": {}})"), "index has no 'weight_map'");
}

TEST(SafetensorsIndex, WeightMapNotAnObject) {
  EXPECT_EQ(indexError(R"({"weight_map": ["a"]})"),
            "'weight_map' must be an object, got an array");
}

TEST(SafetensorsIndex, FileNameNotAString) {
  EXPECT_EQ(indexError(R"({"weight_map": {"w": 1}})"),
            "'weight_map' entry 'w' must be a string, got an integer");
}

TEST(SafetensorsIndex, FileNamesMustBePlain) {
  for (const char *name : {"", ".", "..", "../model.safetensors", "/etc/passwd",
                           "sub/model.safetensors", "a\\\\b"}) {
    SCOPED_TRACE(name);
    std::string message =
        indexError(std::string(R"({"weight_map": {"w": ")") + name + "\"}}");
    EXPECT_EQ(message.rfind("'weight_map' entry 'w': '", 0), 0u) << message;
    EXPECT_NE(message.find("' is not a plain file name in the model "
                           "directory"),
              std::string::npos)
        << message;
  }
  EXPECT_EQ(indexError(R"({"weight_map": {"w": "../x"}})"),
            "'weight_map' entry 'w': '../x' is not a plain file name in the "
            "model directory");
  EXPECT_EQ(indexError(R"({"weight_map": {"w": "a\u0000b"}})"),
            "'weight_map' entry 'w': 'a\\x00b' is not a plain file name in "
            "the model directory");
}

TEST(SafetensorsIndex, DuplicateTensorNames) {
  EXPECT_EQ(indexError(R"({"weight_map": {"w": "a", "w": "b"}})"),
            "index is not JSON: JSON at byte 26: duplicate key 'w'");
}

} // namespace

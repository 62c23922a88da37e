//===- NpyTest.cpp - .npy arrays ------------------------------------------===//

#include "runtime/support/Npy.h"

#include "tests/unit/runtime/TempDir.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <unistd.h>

using namespace lathe::rt;
using lathe::rt::testing::TempDir;

namespace {

/// A file np.save wrote, and the array it holds.
struct NumpyFile {
  const char *name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Each made by np.save(f, a) with numpy 1.24.2 for the `a` in its comment.
const NumpyFile numpyFiles[] = {
    // np.arange(6, dtype='<f4').reshape(2, 3) - 1.5
    {"F32Matrix",
     DType::F32,
     {2, 3},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': Fal"
                 "se, 'shape': (2, 3), }                                     "
                 "                     \n"
                 "\x00\x00\xc0\xbf\x00\x00\x00\xbf\x00\x00\x00?\x00\x00\xc0?"
                 "\x00\x00 @\x00\x00`@",
                 152)},
    // np.array(1.5, dtype='<f4')
    {"F32Scalar",
     DType::F32,
     {},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': Fal"
                 "se, 'shape': (), }                                         "
                 "                     \n"
                 "\x00\x00\xc0?",
                 132)},
    // np.array([1, -2, 3, 2**31 - 1, -2**31], dtype='<i4')
    {"I32Vector",
     DType::I32,
     {5},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': Fal"
                 "se, 'shape': (5,), }                                       "
                 "                     \n"
                 "\x01\x00\x00\x00\xfe\xff\xff\xff\x03\x00\x00\x00\xff\xff"
                 "\xff\x7f\x00\x00\x00\x80",
                 148)},
    // (np.arange(24, dtype='<i8') - 12).reshape(2, 3, 4) * 1000000007
    {"I64Cube",
     DType::I64,
     {2, 3, 4},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': Fal"
                 "se, 'shape': (2, 3, 4), }                                  "
                 "                     \n"
                 "\xac\x87\xbe"
                 "4\xfd\xff\xff\xff\xb3QYp\xfd\xff\xff\xff\xba\x1b\xf4\xab"
                 "\xfd\xff\xff\xff\xc1\xe5\x8e\xe7\xfd\xff\xff\xff\xc8\xaf)#"
                 "\xfe\xff\xff\xff\xcfy\xc4^\xfe\xff\xff\xff\xd6"
                 "C_\x9a\xfe\xff\xff\xff\xdd\x0d\xfa\xd5\xfe\xff\xff\xff\xe4"
                 "\xd7\x94\x11\xff\xff\xff\xff\xeb\xa1/M\xff\xff\xff\xff\xf2k"
                 "\xca\x88\xff\xff\xff\xff\xf9"
                 "5e\xc4\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x07"
                 "\xca\x9a;\x00\x00\x00\x00\x0e\x94"
                 "5w\x00\x00\x00\x00\x15^\xd0\xb2\x00\x00\x00\x00\x1c(k\xee"
                 "\x00\x00\x00\x00#\xf2\x05*\x01\x00\x00\x00*\xbc\xa0"
                 "e\x01\x00\x00\x00"
                 "1\x86;\xa1\x01\x00\x00\x00"
                 "8P\xd6\xdc\x01\x00\x00\x00?\x1aq\x18\x02\x00\x00\x00"
                 "F\xe4\x0bT\x02\x00\x00\x00M\xae\xa6\x8f\x02\x00\x00\x00",
                 320)},
    // np.array([[1.0, -2.5], [65504, 6.1e-05]], dtype='<f2')
    {"F16Matrix",
     DType::F16,
     {2, 2},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f2', 'fortran_order': Fal"
                 "se, 'shape': (2, 2), }                                     "
                 "                     \n"
                 "\x00<\x00\xc1\xff{\xff\x03",
                 136)},
    // np.zeros((2, 0, 3), dtype='<f2')
    {"F16ZeroSize",
     DType::F16,
     {2, 0, 3},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f2', 'fortran_order': Fal"
                 "se, 'shape': (2, 0, 3), }                                  "
                 "                     \n",
                 128)},
    // np.zeros((0,), dtype='<i8')
    {"I64Empty",
     DType::I64,
     {0},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': Fal"
                 "se, 'shape': (0,), }                                       "
                 "                     \n",
                 128)},
    // np.array([0.1, -1e300], dtype='<f8')
    {"F64Vector",
     DType::F64,
     {2},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': Fal"
                 "se, 'shape': (2,), }                                       "
                 "                     \n"
                 "\x9a\x99\x99\x99\x99\x99\xb9?\x9cu\x00\x88<\xe4"
                 "7\xfe",
                 144)},
    // np.array([0, 7, 255], dtype='u1')
    {"U8Vector",
     DType::U8,
     {3},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': Fal"
                 "se, 'shape': (3,), }                                       "
                 "                     \n"
                 "\x00\x07\xff",
                 131)},
    // np.array(-128, dtype='i1')
    {"I8Scalar",
     DType::I8,
     {},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '|i1', 'fortran_order': Fal"
                 "se, 'shape': (), }                                         "
                 "                     \n"
                 "\x80",
                 129)},
    // np.array([[True, False], [False, True]])
    {"BoolMatrix",
     DType::Bool,
     {2, 2},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': Fal"
                 "se, 'shape': (2, 2), }                                     "
                 "                     \n"
                 "\x01\x00\x00\x01",
                 132)},
    // np.zeros((12345678901234, 0), dtype='<f4')
    {"LongFirstDim",
     DType::F32,
     {12345678901234, 0},
     std::string("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': Fal"
                 "se, 'shape': (12345678901234, 0), }                        "
                 "                     \n",
                 128)},
    // np.zeros((0, 1, 1, 1, 12, 12, 12, 12, 12, 12, 12, 12), dtype='<i8')
    {"FullPadding",
     DType::I64,
     {0, 1, 1, 1, 12, 12, 12, 12, 12, 12, 12, 12},
     std::string("\x93NUMPY\x01\x00\xb6\x00{'descr': '<i8', 'fortran_order': "
                 "False, 'shape': (0, 1, 1, 1, 12, 12, 12, 12, 12, 12, 12, 12"
                 "), }                                                       "
                 "                             \n",
                 192)},
};

// np.lib.format.write_array(f, a, version=(2, 0)) for numpyFiles' F32Matrix.
const std::string f32MatrixV2(
    "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<f4', 'fortran_order': False, "
    "'shape': (2, 3), }                                                      "
    "  \n"
    "\x00\x00\xc0\xbf\x00\x00\x00\xbf\x00\x00\x00?\x00\x00\xc0?\x00\x00 @\x00"
    "\x00`@",
    152);

// np.lib.format.write_array(f, a, version=(3, 0)) for numpyFiles' I32Vector.
const std::string i32VectorV3(
    "\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<i4', 'fortran_order': False, "
    "'shape': (5,), }                                                        "
    "  \n"
    "\x01\x00\x00\x00\xfe\xff\xff\xff\x03\x00\x00\x00\xff\xff\xff\x7f\x00\x00"
    "\x00\x80",
    148);

const NumpyFile &numpyFile(const std::string &name) {
  for (const NumpyFile &file : numpyFiles)
    if (name == file.name)
      return file;
  ADD_FAILURE() << "no numpy file " << name;
  return numpyFiles[0];
}

std::vector<uint8_t> toBytes(const std::string &text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

/// The element bytes of a numpy file: what follows its header.
std::vector<uint8_t> dataOf(const NumpyFile &file) {
  size_t start = file.bytes.find('\n') + 1;
  return toBytes(file.bytes.substr(start));
}

Expected<NpyArray> parse(const std::string &file) {
  return parseNpy(reinterpret_cast<const uint8_t *>(file.data()), file.size());
}

std::string parseError(const std::string &file) {
  Expected<NpyArray> array = parse(file);
  EXPECT_FALSE(array.ok()) << "accepted a file of " << file.size() << " bytes";
  return array.status().message();
}

/// A .npy file of `major`.0 whose header is `header`, unpadded, followed by
/// `data`.
std::string npyFile(const std::string &header, const std::string &data = "",
                    int major = 1) {
  std::string file = "\x93NUMPY";
  file += char(major);
  file += '\0';
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i)
    file += char((header.size() >> (8 * i)) & 0xff);
  return file + header + data;
}

/// The error for a file with `header` and `dataBytes` zero bytes of data.
std::string headerError(const std::string &header, size_t dataBytes = 0) {
  return parseError(npyFile(header, std::string(dataBytes, '\0')));
}

/// A version 1.0 header of `descr` and `shape` (a Python tuple).
std::string header(const std::string &descr, const std::string &shape) {
  return "{'descr': '" + descr +
         "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

//===----------------------------------------------------------------------===//
// Files numpy wrote
//===----------------------------------------------------------------------===//

TEST(Npy, ReadsWhatNumpyWrites) {
  for (const NumpyFile &file : numpyFiles) {
    SCOPED_TRACE(file.name);
    Expected<NpyArray> array = parse(file.bytes);
    ASSERT_TRUE(array.ok()) << array.status().message();
    EXPECT_EQ(array->dtype, file.dtype);
    EXPECT_EQ(array->shape, file.shape);
    EXPECT_EQ(array->data, dataOf(file));
  }
}

TEST(Npy, WritesWhatNumpyWrites) {
  for (const NumpyFile &file : numpyFiles) {
    SCOPED_TRACE(file.name);
    std::vector<uint8_t> data = dataOf(file);
    Expected<NpyArray> array =
        NpyArray::fromBytes(file.dtype, file.shape, data.data(), data.size());
    ASSERT_TRUE(array.ok()) << array.status().message();
    Expected<std::vector<uint8_t>> bytes = serializeNpy(*array);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    EXPECT_EQ(*bytes, toBytes(file.bytes));
  }
}

TEST(Npy, DataStartsAtAMultipleOf64) {
  for (const NumpyFile &file : numpyFiles) {
    SCOPED_TRACE(file.name);
    Expected<NpyHeader> header =
        parseNpyHeader(reinterpret_cast<const uint8_t *>(file.bytes.data()),
                       file.bytes.size());
    ASSERT_TRUE(header.ok()) << header.status().message();
    EXPECT_EQ(header->majorVersion, 1);
    EXPECT_EQ(header->dataOffset % 64, 0u);
    EXPECT_EQ(header->dataOffset + header->dataBytes, file.bytes.size());
  }
}

TEST(Npy, RoundTripsThroughFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  for (const NumpyFile &file : numpyFiles) {
    SCOPED_TRACE(file.name);
    std::string path = dir.track(std::string(file.name) + ".npy");
    std::vector<uint8_t> data = dataOf(file);
    Expected<NpyArray> array =
        NpyArray::fromBytes(file.dtype, file.shape, data.data(), data.size());
    ASSERT_TRUE(array.ok()) << array.status().message();
    Status written = writeNpy(path, *array);
    ASSERT_TRUE(written.ok()) << written.message();
    EXPECT_EQ(readFile(path), file.bytes);
    Expected<NpyArray> read = readNpy(path);
    ASSERT_TRUE(read.ok()) << read.status().message();
    EXPECT_EQ(read->dtype, file.dtype);
    EXPECT_EQ(read->shape, file.shape);
    EXPECT_EQ(read->data, data);
  }
}

TEST(Npy, WriteReplacesAnExistingFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.write("x.npy", std::string(1000, 'x'));
  const NumpyFile &file = numpyFile("F32Scalar");
  Expected<NpyArray> array = parse(file.bytes);
  ASSERT_TRUE(array.ok()) << array.status().message();
  Status written = writeNpy(path, *array);
  ASSERT_TRUE(written.ok()) << written.message();
  EXPECT_EQ(readFile(path), file.bytes);
}

TEST(Npy, ReadsVersion2And3) {
  Expected<NpyArray> v2 = parse(f32MatrixV2);
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  const NumpyFile &f32Matrix = numpyFile("F32Matrix");
  EXPECT_EQ(v2->dtype, DType::F32);
  EXPECT_EQ(v2->shape, f32Matrix.shape);
  EXPECT_EQ(v2->data, dataOf(f32Matrix));
  // Written back as version 1.0, as np.save would.
  Expected<std::vector<uint8_t>> bytes = serializeNpy(*v2);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, toBytes(f32Matrix.bytes));

  Expected<NpyArray> v3 = parse(i32VectorV3);
  ASSERT_TRUE(v3.ok()) << v3.status().message();
  const NumpyFile &i32Vector = numpyFile("I32Vector");
  EXPECT_EQ(v3->dtype, DType::I32);
  EXPECT_EQ(v3->shape, i32Vector.shape);
  EXPECT_EQ(v3->data, dataOf(i32Vector));

  Expected<NpyHeader> header =
      parseNpyHeader(reinterpret_cast<const uint8_t *>(f32MatrixV2.data()),
                     f32MatrixV2.size());
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->majorVersion, 2);
  EXPECT_EQ(header->dataOffset, 128u);
  EXPECT_EQ(header->dataBytes, 24u);
}

TEST(Npy, ValuesMatchNumpys) {
  Expected<NpyArray> i32 = parse(numpyFile("I32Vector").bytes);
  ASSERT_TRUE(i32.ok()) << i32.status().message();
  Expected<std::vector<int64_t>> ints = toInt64(*i32);
  ASSERT_TRUE(ints.ok()) << ints.status().message();
  EXPECT_EQ(*ints, (std::vector<int64_t>{1, -2, 3, INT32_MAX, INT32_MIN}));

  std::vector<int64_t> cube;
  for (int64_t i = 0; i < 24; ++i)
    cube.push_back((i - 12) * 1000000007);
  Expected<NpyArray> i64 = parse(numpyFile("I64Cube").bytes);
  ASSERT_TRUE(i64.ok()) << i64.status().message();
  ints = toInt64(*i64);
  ASSERT_TRUE(ints.ok()) << ints.status().message();
  EXPECT_EQ(*ints, cube);

  Expected<NpyArray> f32 = parse(numpyFile("F32Matrix").bytes);
  ASSERT_TRUE(f32.ok()) << f32.status().message();
  std::vector<float> floats(6);
  ASSERT_EQ(f32->data.size(), sizeof(float) * floats.size());
  std::memcpy(floats.data(), f32->data.data(), f32->data.size());
  EXPECT_EQ(floats, (std::vector<float>{-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f}));
}

TEST(Npy, BuildsFromValues) {
  Expected<NpyArray> floats =
      NpyArray::fromFloats({2, 3}, {-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f});
  ASSERT_TRUE(floats.ok()) << floats.status().message();
  EXPECT_EQ(floats->dtype, DType::F32);
  Expected<std::vector<uint8_t>> bytes = serializeNpy(*floats);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, toBytes(numpyFile("F32Matrix").bytes));

  std::vector<int64_t> cube;
  for (int64_t i = 0; i < 24; ++i)
    cube.push_back((i - 12) * 1000000007);
  Expected<NpyArray> ints = NpyArray::fromInt64s({2, 3, 4}, cube);
  ASSERT_TRUE(ints.ok()) << ints.status().message();
  bytes = serializeNpy(*ints);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, toBytes(numpyFile("I64Cube").bytes));

  Expected<NpyArray> scalar = NpyArray::fromFloats({}, {1.5f});
  ASSERT_TRUE(scalar.ok()) << scalar.status().message();
  bytes = serializeNpy(*scalar);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, toBytes(numpyFile("F32Scalar").bytes));
}

TEST(Npy, NumElements) {
  NpyArray array;
  EXPECT_EQ(array.numElements(), 1);
  array.shape = {2, 3, 4};
  EXPECT_EQ(array.numElements(), 24);
  array.shape = {2, 0, 3};
  EXPECT_EQ(array.numElements(), 0);
  array.shape = {12345678901234, 0};
  EXPECT_EQ(array.numElements(), 0);
}

TEST(Npy, LongHeadersUseVersion2) {
  // 22000 dims make a header longer than version 1.0's 65535 bytes.
  Expected<NpyArray> array =
      NpyArray::fromFloats(std::vector<int64_t>(22000, 1), {0.25f});
  ASSERT_TRUE(array.ok()) << array.status().message();
  Expected<std::vector<uint8_t>> bytes = serializeNpy(*array);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  ASSERT_GT(bytes->size(), 12u);
  EXPECT_EQ((*bytes)[6], 2);
  EXPECT_EQ((*bytes)[7], 0);
  Expected<NpyHeader> header = parseNpyHeader(bytes->data(), bytes->size());
  ASSERT_TRUE(header.ok()) << header.status().message();
  EXPECT_EQ(header->majorVersion, 2);
  EXPECT_GT(header->dataOffset, 65535u);
  EXPECT_EQ(header->dataOffset % 64, 0u);
  EXPECT_EQ((*bytes)[header->dataOffset - 1], '\n');
  Expected<NpyArray> back = parseNpy(bytes->data(), bytes->size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->shape, array->shape);
  EXPECT_EQ(back->data, array->data);
}

//===----------------------------------------------------------------------===//
// Headers written by hand
//===----------------------------------------------------------------------===//

TEST(Npy, AcceptsAnySpellingOfTheDict) {
  const char *const headers[] = {
      "{'shape': (2,), 'descr': '<i4', 'fortran_order': False}",
      "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2,)}",
      "  {'descr':'<i4','fortran_order':False,'shape':(2,),}\n",
      "{ 'descr' : '<i4' ,\n\t'fortran_order' : False ,\r\n 'shape' : ( 2 , ) "
      ", }   \n",
      // Python 2 wrote longs with an L, which NumPy still reads.
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }",
      // A parenthesized dim is the dim itself, as in Python.
      "{'descr': '<i4', 'fortran_order': False, 'shape': ((2),), }",
  };
  for (const char *text : headers) {
    SCOPED_TRACE(text);
    Expected<NpyArray> array = parse(npyFile(text, std::string(8, '\1')));
    ASSERT_TRUE(array.ok()) << array.status().message();
    EXPECT_EQ(array->dtype, DType::I32);
    EXPECT_EQ(array->shape, std::vector<int64_t>{2});
  }

  Expected<NpyArray> matrix =
      parse(npyFile(header("<f2", "(2, 3,)"), std::string(12, '\0')));
  ASSERT_TRUE(matrix.ok()) << matrix.status().message();
  EXPECT_EQ(matrix->shape, (std::vector<int64_t>{2, 3}));

  for (const char *descr : {"|u1", "<u1", ">u1", "=u1"}) {
    Expected<NpyArray> bytes = parse(npyFile(header(descr, "(1,)"), "x"));
    ASSERT_TRUE(bytes.ok()) << descr << ": " << bytes.status().message();
    EXPECT_EQ(bytes->dtype, DType::U8);
  }
}

TEST(Npy, ShapesAtTheLimits) {
  // The largest dim; zero elements, so no data.
  Expected<NpyArray> array =
      parse(npyFile(header("|u1", "(9223372036854775807, 0)")));
  ASSERT_TRUE(array.ok()) << array.status().message();
  EXPECT_EQ(array->shape,
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), 0}));
  EXPECT_EQ(array->numElements(), 0);
  // 2^61 - 1 float32s fit in int64 bytes; the file is just short of them.
  EXPECT_EQ(headerError(header("<f4", "(2305843009213693951,)")),
            "truncated: shape [2305843009213693951] of float32 needs "
            "9223372036854775804 bytes of data, the file has 0");
}

TEST(Npy, BadMagic) {
  const std::string message = "not a .npy file: bad magic (a .npy file starts "
                              "with \"\\x93NUMPY\")";
  EXPECT_EQ(parseError(""), message);
  EXPECT_EQ(parseError(std::string("NUMPY\x01\x00\x00\x00", 8)), message);
  EXPECT_EQ(parseError(std::string("\x93NUMPX\x01\x00\x02\x00{}", 12)),
            message);
  EXPECT_EQ(parseError("PK\x03\x04\x14"),
            "not a .npy file: it is a zip archive, as np.savez writes; save "
            "one array with np.save");
}

TEST(Npy, TooShortForThePrefix) {
  EXPECT_EQ(parseError("\x93NUMPY"),
            "not a .npy file: 6 bytes is too short for the magic and version");
  EXPECT_EQ(parseError("\x93NU"),
            "not a .npy file: 3 bytes is too short for the magic and version");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x01\x00\x05", 9)),
            "not a .npy file: 9 bytes is too short for the header length");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x02\x00\x05\x00\x00", 11)),
            "not a .npy file: 11 bytes is too short for the header length");
}

TEST(Npy, UnsupportedVersion) {
  std::string file = npyFile(header("<f4", "()"), "abcd");
  file[6] = 4;
  EXPECT_EQ(parseError(file), "unsupported .npy format version 4.0 (1.0, 2.0 "
                              "and 3.0 are supported)");
  file[6] = 0;
  EXPECT_EQ(parseError(file), "unsupported .npy format version 0.0 (1.0, 2.0 "
                              "and 3.0 are supported)");
  file[6] = 1;
  file[7] = 1;
  EXPECT_EQ(parseError(file), "unsupported .npy format version 1.1 (1.0, 2.0 "
                              "and 3.0 are supported)");
}

TEST(Npy, HeaderLengthBeyondTheFile) {
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x01\x00\xff\x00{}", 12)),
            "header length 255 runs past the end of the file: the header "
            "would end at byte 265, the file has 12 bytes");
  EXPECT_EQ(
      parseError(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14)),
      "header length 4294967295 runs past the end of the file: the header "
      "would end at byte 4294967307, the file has 14 bytes");
}

TEST(Npy, HeaderNotADict) {
  EXPECT_EQ(headerError("[('descr', '<f4')]"),
            "header is not a dict: it starts with '[' at column 1");
  EXPECT_EQ(headerError("  descr"),
            "header is not a dict: it starts with 'd' at column 3");
  EXPECT_EQ(headerError("   \n"), "header is empty; expected a dict");
  EXPECT_EQ(headerError(""), "header is empty; expected a dict");
}

TEST(Npy, MalformedHeader) {
  EXPECT_EQ(headerError("{'descr': '<f4' 'fortran_order': False}"),
            "malformed header at column 17: expected ',' or '}', found \"'\"");
  EXPECT_EQ(headerError("{'descr': '<f4'"),
            "malformed header at column 16: expected ',' or '}', found end of "
            "header");
  EXPECT_EQ(headerError("{'descr: False}"),
            "malformed header at column 2: unterminated string");
  EXPECT_EQ(headerError("{'descr\n': 1}"),
            "malformed header at column 2: unterminated string");
  EXPECT_EQ(headerError("{'de\\x63r': '<f4'}"),
            "malformed header at column 5: escape sequences in strings are "
            "not supported");
  EXPECT_EQ(headerError("{'descr' '<f4'}"),
            "malformed header at column 10: expected ':' after key 'descr', "
            "found \"'\"");
  EXPECT_EQ(headerError("{1: 2}"),
            "malformed header at column 2: expected a string key or '}', "
            "found '1'");
  EXPECT_EQ(headerError(header("<f4", "(02,)")),
            "malformed header at column 52: integers may not have leading "
            "zeros");
  EXPECT_EQ(headerError(header("<f4", "(1.5,)")),
            "malformed header at column 53: unexpected '.' in an integer");
  EXPECT_EQ(headerError(header("<f4", "(- 1,)")),
            "malformed header at column 53: expected digits after '-', found "
            "' '");
  EXPECT_EQ(headerError("{'descr': '<f4', 'fortran_order': false}"),
            "malformed header at column 35: unexpected name 'false' (values "
            "are strings, integers, True, False, None, tuples, lists and "
            "dicts)");
  EXPECT_EQ(headerError("{'shape': (2,)} x"),
            "malformed header at column 17: unexpected 'x' after the dict");
  EXPECT_EQ(headerError(std::string("{'shape': (2,)}\0", 16)),
            "malformed header at column 16: unexpected '\\x00' after the dict");
  EXPECT_EQ(headerError("{'shape': (2,), 'shape': (2,)}"),
            "malformed header at column 17: duplicate key 'shape'");
  EXPECT_EQ(headerError("{'shape': (2, *)}"),
            "malformed header at column 15: expected a value, found '*'");
  EXPECT_EQ(headerError("{'shape': (2, 3]}"),
            "malformed header at column 16: expected ',' or ')', found ']'");
  EXPECT_EQ(headerError("{'descr': '\xc3\xa9\x01'}\x01"),
            "malformed header at column 17: unexpected '\\x01' after the "
            "dict");
  std::string deep = "{'shape': " + std::string(40, '(');
  EXPECT_EQ(headerError(deep),
            "malformed header at column 43: values nest deeper than 32");
}

TEST(Npy, MissingAndUnknownKeys) {
  EXPECT_EQ(headerError("{'descr': '<f4', 'fortran_order': False}"),
            "the header has no 'shape' key");
  EXPECT_EQ(headerError("{'shape': (), 'fortran_order': False}"),
            "the header has no 'descr' key");
  EXPECT_EQ(headerError("{}"), "the header has no 'descr' key");
  EXPECT_EQ(headerError("{'descr': '<f4', 'shape': ()}"),
            "the header has no 'fortran_order' key");
  EXPECT_EQ(headerError("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(), 'extra': None}"),
            "unknown key 'extra' in the header (a .npy header has 'descr', "
            "'fortran_order' and 'shape')");
  EXPECT_EQ(headerError("{'Shape': ()}"),
            "unknown key 'Shape' in the header (a .npy header has 'descr', "
            "'fortran_order' and 'shape')");
}

TEST(Npy, UnsupportedDescr) {
  EXPECT_EQ(headerError(header(">f4", "()"), 4),
            "dtype '>f4' is big-endian, which is not supported; convert with "
            "arr.astype('<f4')");
  EXPECT_EQ(headerError(header(">i8", "()"), 8),
            "dtype '>i8' is big-endian, which is not supported; convert with "
            "arr.astype('<i8')");
  const std::string supported =
      " is not supported (int32, int64, float32, float16, float64, int8, "
      "uint8, bool)";
  EXPECT_EQ(headerError(header("<c8", "()"), 8), "dtype '<c8'" + supported);
  EXPECT_EQ(headerError(header("<u4", "()"), 4), "dtype '<u4'" + supported);
  EXPECT_EQ(headerError(header("<U3", "()"), 12), "dtype '<U3'" + supported);
  EXPECT_EQ(headerError(header("f4", "()"), 4), "dtype 'f4'" + supported);
  EXPECT_EQ(headerError(header("=f4", "()"), 4), "dtype '=f4'" + supported);
  EXPECT_EQ(headerError(header("", "()")), "dtype ''" + supported);
  EXPECT_EQ(headerError("{'descr': [('a', '<f4')], 'fortran_order': False, "
                        "'shape': ()}"),
            "structured dtypes are not supported ('descr' is a list)");
  EXPECT_EQ(headerError("{'descr': 4, 'fortran_order': False, 'shape': ()}"),
            "'descr' must be a string, found an integer");
}

TEST(Npy, FortranOrder) {
  EXPECT_EQ(headerError("{'descr': '<f4', 'fortran_order': True, 'shape': "
                        "(2, 3)}",
                        24),
            "Fortran-ordered arrays are not supported; save with "
            "np.ascontiguousarray");
  EXPECT_EQ(headerError("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"),
            "'fortran_order' must be True or False, found an integer");
  EXPECT_EQ(headerError("{'descr': '<f4', 'fortran_order': None, 'shape': ()}"),
            "'fortran_order' must be True or False, found None");
}

TEST(Npy, BadShapes) {
  EXPECT_EQ(headerError(header("<f4", "[2, 3]")),
            "'shape' must be a tuple of integers, found a list");
  EXPECT_EQ(headerError(header("<f4", "'2'")),
            "'shape' must be a tuple of integers, found a string");
  EXPECT_EQ(headerError(header("<f4", "(5)")),
            "'shape' must be a tuple, found an integer (a 1-D shape is "
            "written (5,))");
  EXPECT_EQ(headerError(header("<f4", "('a',)")),
            "shape dimension 0 must be an integer, found a string");
  EXPECT_EQ(headerError(header("<f4", "(2, (3,))")),
            "shape dimension 1 must be an integer, found a tuple");
  EXPECT_EQ(headerError(header("<f4", "(True,)")),
            "shape dimension 0 must be an integer, found a bool");
  EXPECT_EQ(headerError(header("<f4", "(2, -3)")),
            "shape dimension 1 is negative (-3)");
  EXPECT_EQ(headerError(header("<f4", "(-9223372036854775808,)")),
            "shape dimension 0 is negative (-9223372036854775808)");
  EXPECT_EQ(headerError(header("<f4", "(99999999999999999999,)")),
            "shape dimension 0 (99999999999999999999) does not fit in int64");
  EXPECT_EQ(headerError(header("<f4", "(9223372036854775808, 0)")),
            "shape dimension 0 (9223372036854775808) does not fit in int64");
  EXPECT_EQ(headerError(header("<f4", "(-9223372036854775809,)")),
            "shape dimension 0 (-9223372036854775809) does not fit in "
            "int64");
}

TEST(Npy, ShapeOverflow) {
  EXPECT_EQ(headerError(header("|u1", "(4294967296, 4294967296)")),
            "shape [4294967296, 4294967296] of uint8 is too large: its size "
            "in bytes does not fit in int64");
  EXPECT_EQ(headerError(header("<f4", "(2305843009213693952,)")),
            "shape [2305843009213693952] of float32 is too large: its size in "
            "bytes does not fit in int64");
  // A zero dim does not excuse the others: strides would still overflow.
  EXPECT_EQ(headerError(header("<f4", "(0, 4611686018427387904, 4)")),
            "shape [0, 4611686018427387904, 4] of float32 is too large: its "
            "size in bytes does not fit in int64");
}

TEST(Npy, DataSizeMustMatchTheShape) {
  EXPECT_EQ(headerError(header("<f4", "(2, 3)"), 20),
            "truncated: shape [2, 3] of float32 needs 24 bytes of data, the "
            "file has 20");
  EXPECT_EQ(headerError(header("<i8", "()"), 0),
            "truncated: shape [] of int64 needs 8 bytes of data, the file has "
            "0");
  EXPECT_EQ(headerError(header("<f4", "(2, 3)"), 28),
            "4 trailing bytes after the data: shape [2, 3] of float32 needs 24 "
            "bytes, the file has 28");
  EXPECT_EQ(headerError(header("<f2", "(0, 3)"), 1),
            "1 trailing bytes after the data: shape [0, 3] of float16 needs 0 "
            "bytes, the file has 1");
  // Cut off numpy's own files anywhere in the data, or extended.
  const NumpyFile &file = numpyFile("I64Cube");
  EXPECT_EQ(parseError(file.bytes.substr(0, file.bytes.size() - 1)),
            "truncated: shape [2, 3, 4] of int64 needs 192 bytes of data, the "
            "file has 191");
  EXPECT_EQ(parseError(file.bytes + "\n"),
            "1 trailing bytes after the data: shape [2, 3, 4] of int64 needs "
            "192 bytes, the file has 193");
}

TEST(Npy, EveryPrefixOfAFileIsRejected) {
  const NumpyFile &file = numpyFile("F32Matrix");
  for (size_t size = 0; size < file.bytes.size(); ++size) {
    std::string prefix = file.bytes.substr(0, size);
    EXPECT_FALSE(parse(prefix).ok()) << size << " bytes";
  }
}

//===----------------------------------------------------------------------===//
// Files and conversions
//===----------------------------------------------------------------------===//

TEST(Npy, ReadErrorsNameTheFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path =
      dir.write("bad.npy", npyFile(header("<c8", "()"), std::string(8, '\0')));
  Expected<NpyArray> array = readNpy(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(),
            path + ": dtype '<c8' is not supported (int32, int64, float32, "
                   "float16, float64, int8, uint8, bool)");

  std::string empty = dir.write("empty.npy", "");
  array = readNpy(empty);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(),
            empty + ": not a .npy file: bad magic (a .npy file starts with "
                    "\"\\x93NUMPY\")");

  std::string missing = dir.path() + "/missing.npy";
  array = readNpy(missing);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(),
            missing + ": cannot open: No such file or directory");
}

TEST(Npy, WriteErrorsNameTheFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Expected<NpyArray> array = NpyArray::fromFloats({1}, {1.0f});
  ASSERT_TRUE(array.ok()) << array.status().message();

  std::string inMissingDir = dir.path() + "/no/such/dir/x.npy";
  Status status = writeNpy(inMissingDir, *array);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), inMissingDir + ": cannot open for writing: No "
                                             "such file or directory");

  std::string path = dir.track("x.npy");
  NpyArray bf16 = *array;
  bf16.dtype = DType::BF16;
  bf16.data.resize(2);
  status = writeNpy(path, bf16);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            path + ": dtype bfloat16 cannot be stored in a .npy file here "
                   "(int32, int64, float32, float16, float64, int8, uint8, "
                   "bool)");

  NpyArray short_ = *array;
  short_.shape = {2};
  status = writeNpy(path, short_);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            path + ": shape [2] of float32 needs 8 bytes of data, got 4");
  // Nothing is written for an array that cannot be.
  EXPECT_NE(::access(path.c_str(), F_OK), 0);

  NpyArray negative = *array;
  negative.shape = {-1};
  Expected<std::vector<uint8_t>> bytes = serializeNpy(negative);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().message(), "shape dimension 0 is negative (-1)");
}

TEST(Npy, BuildErrors) {
  Expected<NpyArray> array = NpyArray::fromFloats({2, 3}, {1.0f, 2.0f});
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(),
            "shape [2, 3] of float32 needs 24 bytes of data, got 8");
  array = NpyArray::fromInt64s({}, {});
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(),
            "shape [] of int64 needs 8 bytes of data, got 0");
  uint16_t half = 0x3c00;
  array = NpyArray::fromBytes(DType::BF16, {1}, &half, sizeof(half));
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(),
            "dtype bfloat16 cannot be stored in a .npy file here (int32, "
            "int64, float32, float16, float64, int8, uint8, bool)");
  array = NpyArray::fromBytes(DType::F16, {1}, &half, sizeof(half));
  ASSERT_TRUE(array.ok()) << array.status().message();
  EXPECT_EQ(array->data, (std::vector<uint8_t>{0x00, 0x3c}));
}

TEST(Npy, ToInt64NeedsIntegers) {
  Expected<NpyArray> floats = parse(numpyFile("F32Matrix").bytes);
  ASSERT_TRUE(floats.ok()) << floats.status().message();
  Expected<std::vector<int64_t>> ints = toInt64(*floats);
  ASSERT_FALSE(ints.ok());
  EXPECT_EQ(ints.status().message(),
            "expected an int32 or int64 array, found float32");

  Expected<NpyArray> bytes = parse(numpyFile("U8Vector").bytes);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  ints = toInt64(*bytes);
  ASSERT_FALSE(ints.ok());
  EXPECT_EQ(ints.status().message(),
            "expected an int32 or int64 array, found uint8");

  Expected<NpyArray> empty = parse(numpyFile("I64Empty").bytes);
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  ints = toInt64(*empty);
  ASSERT_TRUE(ints.ok()) << ints.status().message();
  EXPECT_TRUE(ints->empty());

  NpyArray inconsistent = *empty;
  inconsistent.shape = {3};
  ints = toInt64(inconsistent);
  ASSERT_FALSE(ints.ok());
  EXPECT_EQ(ints.status().message(),
            "shape [3] of int64 needs 24 bytes of data, got 0");
}

TEST(Npy, TypeNames) {
  EXPECT_STREQ(numpyTypeName(DType::F32), "float32");
  EXPECT_STREQ(numpyTypeName(DType::F16), "float16");
  EXPECT_STREQ(numpyTypeName(DType::I32), "int32");
  EXPECT_STREQ(numpyTypeName(DType::I64), "int64");
  EXPECT_STREQ(numpyTypeName(DType::Bool), "bool");
  EXPECT_STREQ(numpyTypeName(DType::F8E4M3), "float8_e4m3fn");
}

} // namespace

//===- Npy.cpp - NumPy .npy arrays ----------------------------------------===//

#include "runtime/support/Npy.h"

#include "runtime/support/Text.h"

#include "runtime/support/MappedFile.h"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <unistd.h>

using namespace lathe::rt;

namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr size_t magicSize = 6;

/// np.save pads the header so that the data starts at a multiple of this.
constexpr uint64_t arrayAlign = 64;
/// np.save leaves room in the header for the first dim to grow to this many
/// digits, so that appending rows can rewrite the header in place.
constexpr size_t growthAxisMaxDigits = 21;

/// Headers nest no deeper than a structured dtype's descr; a bound keeps
/// hostile input from exhausting the stack.
constexpr int maxNesting = 32;

struct NpyType {
  DType dtype;
  /// The descr NumPy writes.
  const char *descr;
};

/// The types a .npy file may hold here, in the order messages list them.
constexpr NpyType npyTypes[] = {
    {DType::I32, "<i4"}, {DType::I64, "<i8"},  {DType::F32, "<f4"},
    {DType::F16, "<f2"}, {DType::F64, "<f8"},  {DType::I8, "|i1"},
    {DType::U8, "|u1"},  {DType::Bool, "|b1"},
};

const NpyType *lookupType(DType dtype) {
  for (const NpyType &type : npyTypes)
    if (type.dtype == dtype)
      return &type;
  return nullptr;
}

std::string supportedTypeList() {
  std::string list;
  for (const NpyType &type : npyTypes)
    list += std::string(list.empty() ? "" : ", ") + numpyTypeName(type.dtype);
  return list;
}

/// Header text as a message shows it: a .npy header is ASCII, so every
/// other byte is escaped; at most 40 bytes.
std::string headerText(std::string_view text) {
  return printable(text, /*keepUtf8=*/false, 40);
}

/// "shape [2, 3] of float32", the subject of size messages.
std::string describe(const std::vector<int64_t> &shape, DType dtype) {
  return "shape " + formatShape(shape) + " of " + numpyTypeName(dtype);
}

/// The bytes `shape` of `dtype` takes. Errors unless every dim is
/// non-negative and the bytes of the non-zero dims fit in int64, so that
/// byte sizes and strides computed from the shape never overflow.
Expected<uint64_t> byteSize(DType dtype, const std::vector<int64_t> &shape) {
  const uint64_t maxBytes = uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t nonZeroBytes = dtypeSize(dtype);
  assert(nonZeroBytes != 0 && "callers check the dtype first");
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      return makeError("shape dimension ", i, " is negative (", shape[i], ")");
    if (shape[i] == 0) {
      empty = true;
      continue;
    }
    if (uint64_t(shape[i]) > maxBytes / nonZeroBytes)
      return makeError(describe(shape, dtype),
                       " is too large: its size in bytes does not fit in "
                       "int64");
    nonZeroBytes *= uint64_t(shape[i]);
  }
  return empty ? 0 : nonZeroBytes;
}

//===----------------------------------------------------------------------===//
// The header: a Python dict literal
//===----------------------------------------------------------------------===//

/// A Python literal of the kinds a .npy header may contain.
struct Literal {
  enum class Kind { String, Integer, Bool, None, Tuple, List, Dict };
  Kind kind = Kind::None;
  /// A string's contents, an integer's digits as written.
  std::string text;
  /// An integer's value; `fits` is false if it does not fit in int64.
  int64_t integer = 0;
  bool fits = true;
  bool boolean = false;
  /// Tuple and list elements; a dict's values, in order.
  std::vector<Literal> items;
  /// A dict's keys, parallel to `items`.
  std::vector<std::string> keys;
};

const char *kindName(Literal::Kind kind) {
  switch (kind) {
  case Literal::Kind::String:
    return "a string";
  case Literal::Kind::Integer:
    return "an integer";
  case Literal::Kind::Bool:
    return "a bool";
  case Literal::Kind::None:
    return "None";
  case Literal::Kind::Tuple:
    return "a tuple";
  case Literal::Kind::List:
    return "a list";
  case Literal::Kind::Dict:
    return "a dict";
  }
  return "a value";
}

/// Parses the subset of Python literal syntax that ast.literal_eval, which
/// NumPy reads headers with, accepts and that headers use: strings without
/// escapes, decimal integers, True, False, None, tuples, lists and dicts
/// with string keys.
class LiteralParser {
public:
  /// `allowLongSuffix`: accept Python 2's "3L", which NumPy also accepts in
  /// version 1.0 and 2.0 headers.
  LiteralParser(std::string_view text, bool allowLongSuffix)
      : text(text), allowLongSuffix(allowLongSuffix) {}

  Expected<Literal> parseHeader() {
    skipSpace();
    if (atEnd())
      return Status::error("header is empty; expected a dict");
    if (peek() != '{')
      return makeError("header is not a dict: it starts with ", found(),
                       " at column ", column());
    Literal value;
    if (Status s = parseValue(value, 0); !s.ok())
      return s;
    skipSpace();
    if (!atEnd())
      return error("unexpected " + found() + " after the dict");
    return value;
  }

private:
  bool atEnd() const { return pos >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[pos]; }
  size_t column() const { return pos + 1; }

  /// What is at the cursor, for messages.
  std::string found() const {
    if (atEnd())
      return "end of header";
    if (text[pos] == '\'')
      return "\"'\"";
    return "'" + headerText(text.substr(pos, 1)) + "'";
  }

  Status error(const std::string &what) const {
    return makeError("malformed header at column ", column(), ": ", what);
  }

  void skipSpace() {
    while (!atEnd() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' ||
            text[pos] == '\r' || text[pos] == '\f' || text[pos] == '\v'))
      ++pos;
  }

  static bool isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
  }

  Status parseValue(Literal &value, int depth) {
    if (depth > maxNesting)
      return error("values nest deeper than " + std::to_string(maxNesting));
    char c = peek();
    if (c == '\'' || c == '"')
      return parseString(value);
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseInteger(value);
    if (c == '(' || c == '[')
      return parseSequence(value, depth);
    if (c == '{')
      return parseDict(value, depth);
    if (isNameChar(c))
      return parseName(value);
    return error("expected a value, found " + found());
  }

  Status parseString(Literal &value) {
    size_t startColumn = column();
    char quote = text[pos++];
    size_t start = pos;
    while (!atEnd() && text[pos] != quote) {
      if (text[pos] == '\\')
        return error("escape sequences in strings are not supported");
      if (text[pos] == '\n' || text[pos] == '\r')
        break;
      ++pos;
    }
    if (atEnd() || text[pos] != quote)
      return makeError("malformed header at column ", startColumn,
                       ": unterminated string");
    value.kind = Literal::Kind::String;
    value.text = std::string(text.substr(start, pos - start));
    ++pos;
    return Status::success();
  }

  Status parseInteger(Literal &value) {
    size_t start = pos;
    bool negative = peek() == '-';
    if (negative)
      ++pos;
    size_t digitsStart = pos;
    // Accumulate the magnitude as unsigned, so that INT64_MIN is exact.
    const uint64_t limit =
        negative ? uint64_t(std::numeric_limits<int64_t>::max()) + 1
                 : uint64_t(std::numeric_limits<int64_t>::max());
    uint64_t magnitude = 0;
    bool fits = true;
    while (!atEnd() && text[pos] >= '0' && text[pos] <= '9') {
      unsigned digit = unsigned(text[pos] - '0');
      if (magnitude > (limit - digit) / 10)
        fits = false;
      else
        magnitude = magnitude * 10 + digit;
      ++pos;
    }
    if (pos == digitsStart)
      return error("expected digits after '-', found " + found());
    if (pos - digitsStart > 1 && text[digitsStart] == '0')
      return makeError("malformed header at column ", digitsStart + 1,
                       ": integers may not have leading zeros");
    value.kind = Literal::Kind::Integer;
    value.text = std::string(text.substr(start, pos - start));
    value.fits = fits;
    if (fits)
      value.integer = negative ? int64_t(0 - magnitude) : int64_t(magnitude);
    if (allowLongSuffix && (peek() == 'L' || peek() == 'l'))
      ++pos;
    if (!atEnd() && (isNameChar(text[pos]) || text[pos] == '.'))
      return error("unexpected " + found() + " in an integer");
    return Status::success();
  }

  Status parseName(Literal &value) {
    size_t start = pos;
    while (!atEnd() && isNameChar(text[pos]))
      ++pos;
    std::string_view name = text.substr(start, pos - start);
    if (name == "True" || name == "False") {
      value.kind = Literal::Kind::Bool;
      value.boolean = name == "True";
    } else if (name == "None") {
      value.kind = Literal::Kind::None;
    } else {
      pos = start;
      return error("unexpected name '" + headerText(name) +
                   "' (values are strings, integers, True, False, None, "
                   "tuples, lists and dicts)");
    }
    return Status::success();
  }

  /// A tuple, a list, or a parenthesized value: "(5)" is the integer 5,
  /// "(5,)" a tuple, as in Python.
  Status parseSequence(Literal &value, int depth) {
    char open = text[pos++];
    char close = open == '(' ? ')' : ']';
    value.kind = open == '(' ? Literal::Kind::Tuple : Literal::Kind::List;
    bool sawComma = false;
    for (;;) {
      skipSpace();
      if (peek() == close)
        break;
      Literal item;
      if (Status s = parseValue(item, depth + 1); !s.ok())
        return s;
      value.items.push_back(std::move(item));
      skipSpace();
      if (peek() == ',') {
        ++pos;
        sawComma = true;
        continue;
      }
      if (peek() == close)
        break;
      return error(std::string("expected ',' or '") + close + "', found " +
                   found());
    }
    ++pos;
    if (open == '(' && value.items.size() == 1 && !sawComma) {
      Literal inner = std::move(value.items.front());
      value = std::move(inner);
    }
    return Status::success();
  }

  Status parseDict(Literal &value, int depth) {
    ++pos;
    value.kind = Literal::Kind::Dict;
    std::set<std::string> seen;
    for (;;) {
      skipSpace();
      if (peek() == '}')
        break;
      if (peek() != '\'' && peek() != '"')
        return error("expected a string key or '}', found " + found());
      Literal key;
      size_t keyColumn = column();
      if (Status s = parseString(key); !s.ok())
        return s;
      if (!seen.insert(key.text).second)
        return makeError("malformed header at column ", keyColumn,
                         ": duplicate key '", headerText(key.text), "'");
      skipSpace();
      if (peek() != ':')
        return error("expected ':' after key '" + headerText(key.text) +
                     "', found " + found());
      ++pos;
      skipSpace();
      Literal item;
      if (Status s = parseValue(item, depth + 1); !s.ok())
        return s;
      value.keys.push_back(std::move(key.text));
      value.items.push_back(std::move(item));
      skipSpace();
      if (peek() == ',') {
        ++pos;
        continue;
      }
      if (peek() == '}')
        break;
      return error("expected ',' or '}', found " + found());
    }
    ++pos;
    return Status::success();
  }

  std::string_view text;
  bool allowLongSuffix;
  size_t pos = 0;
};

Expected<DType> parseDescr(const Literal &descr) {
  if (descr.kind == Literal::Kind::List)
    return Status::error(
        "structured dtypes are not supported ('descr' is a list)");
  if (descr.kind != Literal::Kind::String)
    return makeError("'descr' must be a string, found ", kindName(descr.kind));
  const std::string &text = descr.text;
  for (const NpyType &type : npyTypes) {
    if (text == type.descr)
      return type.dtype;
    // Byte order means nothing for one byte; NumPy reads '<u1' as '|u1'.
    if (dtypeSize(type.dtype) == 1 && text.size() == 3 &&
        (text[0] == '<' || text[0] == '>' || text[0] == '=') &&
        text.compare(1, 2, type.descr + 1) == 0)
      return type.dtype;
  }
  if (text.size() == 3 && text[0] == '>')
    for (const NpyType &type : npyTypes)
      if (text.compare(1, 2, type.descr + 1) == 0)
        return makeError("dtype '", text,
                         "' is big-endian, which is not supported; convert "
                         "with arr.astype('<",
                         text.substr(1), "')");
  return makeError("dtype '", headerText(text), "' is not supported (",
                   supportedTypeList(), ")");
}

Expected<std::vector<int64_t>> parseShape(const Literal &shape) {
  if (shape.kind == Literal::Kind::Integer)
    return makeError("'shape' must be a tuple, found an integer (a 1-D shape "
                     "is written (",
                     shape.text, ",))");
  if (shape.kind != Literal::Kind::Tuple)
    return makeError("'shape' must be a tuple of integers, found ",
                     kindName(shape.kind));
  std::vector<int64_t> dims;
  dims.reserve(shape.items.size());
  for (size_t i = 0; i < shape.items.size(); ++i) {
    const Literal &dim = shape.items[i];
    if (dim.kind != Literal::Kind::Integer)
      return makeError("shape dimension ", i, " must be an integer, found ",
                       kindName(dim.kind));
    if (!dim.fits)
      return makeError("shape dimension ", i, " (", dim.text,
                       ") does not fit in int64");
    if (dim.integer < 0)
      return makeError("shape dimension ", i, " is negative (", dim.integer,
                       ")");
    dims.push_back(dim.integer);
  }
  return dims;
}

/// Reads the dict of a header into `header`'s dtype and shape.
Status interpretHeader(const Literal &dict, NpyHeader &header) {
  assert(dict.kind == Literal::Kind::Dict && "parseHeader returns a dict");
  static const char *const required[] = {"descr", "fortran_order", "shape"};
  const Literal *fields[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < dict.keys.size(); ++i) {
    size_t k = 0;
    while (k < 3 && dict.keys[i] != required[k])
      ++k;
    if (k == 3)
      return makeError("unknown key '", headerText(dict.keys[i]),
                       "' in the header (a .npy header has 'descr', "
                       "'fortran_order' and 'shape')");
    fields[k] = &dict.items[i];
  }
  for (size_t k = 0; k < 3; ++k)
    if (!fields[k])
      return makeError("the header has no '", required[k], "' key");

  Expected<DType> dtype = parseDescr(*fields[0]);
  if (!dtype.ok())
    return dtype.status();
  const Literal &fortranOrder = *fields[1];
  if (fortranOrder.kind != Literal::Kind::Bool)
    return makeError("'fortran_order' must be True or False, found ",
                     kindName(fortranOrder.kind));
  if (fortranOrder.boolean)
    return Status::error("Fortran-ordered arrays are not supported; save with "
                         "np.ascontiguousarray");
  Expected<std::vector<int64_t>> shape = parseShape(*fields[2]);
  if (!shape.ok())
    return shape.status();
  Expected<uint64_t> bytes = byteSize(*dtype, *shape);
  if (!bytes.ok())
    return bytes.status();
  header.dtype = *dtype;
  header.shape = std::move(*shape);
  header.dataBytes = *bytes;
  return Status::success();
}

uint32_t readLittleEndian(const uint8_t *bytes, size_t count) {
  uint32_t value = 0;
  for (size_t i = 0; i < count; ++i)
    value |= uint32_t(bytes[i]) << (8 * i);
  return value;
}

/// Checks that `size` bytes are what `shape` of `dtype` needs.
Status checkSize(DType dtype, const std::vector<int64_t> &shape, size_t size) {
  Expected<uint64_t> needed = byteSize(dtype, shape);
  if (!needed.ok())
    return needed.status();
  if (size != *needed)
    return makeError(describe(shape, dtype), " needs ", *needed,
                     " bytes of data, got ", size);
  return Status::success();
}

/// Checks that an array of `dtype`, `shape` and `size` bytes can be written: a
/// supported dtype, data matching the shape.
Status checkArray(DType dtype, const std::vector<int64_t> &shape, size_t size) {
  if (!lookupType(dtype))
    return makeError("dtype ", numpyTypeName(dtype),
                     " cannot be stored in a .npy file here (",
                     supportedTypeList(), ")");
  return checkSize(dtype, shape, size);
}

/// Writes all of `bytes` to `fd`, retrying short writes.
bool writeAll(int fd, const uint8_t *bytes, size_t size) {
  while (size > 0) {
    ssize_t written = ::write(fd, bytes, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    bytes += written;
    size -= size_t(written);
  }
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// NpyArray
//===----------------------------------------------------------------------===//

int64_t NpyArray::numElements() const {
  uint64_t count = 1;
  for (int64_t dim : shape)
    count *= uint64_t(dim);
  return int64_t(count);
}

Expected<NpyArray> NpyArray::fromBytes(DType dtype, std::vector<int64_t> shape,
                                       const void *bytes, size_t size) {
  if (Status s = checkArray(dtype, shape, size); !s.ok())
    return s;
  NpyArray array;
  array.dtype = dtype;
  array.shape = std::move(shape);
  const uint8_t *begin = static_cast<const uint8_t *>(bytes);
  if (size)
    array.data.assign(begin, begin + size);
  return array;
}

Expected<NpyArray> NpyArray::fromFloats(std::vector<int64_t> shape,
                                        const std::vector<float> &values) {
  static_assert(sizeof(float) == 4, "float32 is a 4-byte float");
  return fromBytes(DType::F32, std::move(shape), values.data(),
                   values.size() * sizeof(float));
}

Expected<NpyArray> NpyArray::fromInt64s(std::vector<int64_t> shape,
                                        const std::vector<int64_t> &values) {
  return fromBytes(DType::I64, std::move(shape), values.data(),
                   values.size() * sizeof(int64_t));
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

Expected<NpyHeader> lathe::rt::parseNpyHeader(const uint8_t *bytes,
                                              size_t size) {
  if (size >= 4 && std::memcmp(bytes, "PK\x03\x04", 4) == 0)
    return Status::error("not a .npy file: it is a zip archive, as np.savez "
                         "writes; save one array with np.save");
  size_t known = size < magicSize ? size : magicSize;
  if ((known && std::memcmp(bytes, magic, known) != 0) || size == 0)
    return Status::error("not a .npy file: bad magic (a .npy file starts "
                         "with \"\\x93NUMPY\")");
  if (size < magicSize + 2)
    return makeError("not a .npy file: ", size,
                     " bytes is too short for the magic and version");
  NpyHeader header;
  uint8_t major = bytes[magicSize], minor = bytes[magicSize + 1];
  if (major < 1 || major > 3 || minor != 0)
    return makeError("unsupported .npy format version ", unsigned(major), ".",
                     unsigned(minor), " (1.0, 2.0 and 3.0 are supported)");
  header.majorVersion = major;
  size_t lengthSize = major == 1 ? 2 : 4;
  size_t prefixSize = magicSize + 2 + lengthSize;
  if (size < prefixSize)
    return makeError("not a .npy file: ", size,
                     " bytes is too short for the header length");
  uint64_t headerSize = readLittleEndian(bytes + magicSize + 2, lengthSize);
  if (headerSize > size - prefixSize)
    return makeError("header length ", headerSize,
                     " runs past the end of the file: the header would end "
                     "at byte ",
                     prefixSize + headerSize, ", the file has ", size,
                     " bytes");
  header.dataOffset = prefixSize + headerSize;

  std::string_view text(reinterpret_cast<const char *>(bytes + prefixSize),
                        size_t(headerSize));
  Expected<Literal> dict = LiteralParser(text, major < 3).parseHeader();
  if (!dict.ok())
    return dict.status();
  if (Status s = interpretHeader(*dict, header); !s.ok())
    return s;
  return header;
}

Expected<NpyArray> lathe::rt::parseNpy(const uint8_t *bytes, size_t size) {
  Expected<NpyHeader> header = parseNpyHeader(bytes, size);
  if (!header.ok())
    return header.status();
  uint64_t available = size - header->dataOffset;
  if (available != header->dataBytes) {
    std::string subject = describe(header->shape, header->dtype);
    if (available < header->dataBytes)
      return makeError("truncated: ", subject, " needs ", header->dataBytes,
                       " bytes of data, the file has ", available);
    return makeError(available - header->dataBytes,
                     " trailing bytes after the data: ", subject, " needs ",
                     header->dataBytes, " bytes, the file has ", available);
  }
  NpyArray array;
  array.dtype = header->dtype;
  array.shape = std::move(header->shape);
  if (available)
    array.data.assign(bytes + header->dataOffset, bytes + size);
  return array;
}

Expected<NpyArray> lathe::rt::readNpy(const std::string &path) {
  Expected<MappedFile> file = MappedFile::open(path);
  if (!file.ok())
    return file.status();
  Expected<NpyArray> array = parseNpy(file->data(), size_t(file->size()));
  if (!array.ok())
    return array.status().withContext(path);
  return array;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Expected<std::vector<uint8_t>> lathe::rt::serializeNpy(const NpyArray &array) {
  if (Status s = checkArray(array.dtype, array.shape, array.data.size());
      !s.ok())
    return s;

  // The dict as np.save writes it: keys sorted, Python's tuple repr, and
  // room for the first dim to grow.
  std::string dict = "{'descr': '";
  dict += lookupType(array.dtype)->descr;
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(array.shape[i]);
  if (array.shape.size() == 1)
    dict += ",";
  dict += "), }";
  if (!array.shape.empty()) {
    size_t digits = std::to_string(array.shape.front()).size();
    if (digits < growthAxisMaxDigits)
      dict.append(growthAxisMaxDigits - digits, ' ');
  }

  // np.save pads with 1 to 64 spaces (never 0) before the final newline.
  auto paddedLength = [&](uint64_t prefixSize) {
    uint64_t unpadded = dict.size() + 1;
    return unpadded + arrayAlign - (prefixSize + unpadded) % arrayAlign;
  };
  uint8_t major = 1;
  uint64_t headerSize = paddedLength(magicSize + 2 + 2);
  if (headerSize > std::numeric_limits<uint16_t>::max()) {
    major = 2;
    headerSize = paddedLength(magicSize + 2 + 4);
  }
  if (headerSize > std::numeric_limits<uint32_t>::max())
    return makeError("the header of ", describe(array.shape, array.dtype),
                     " is too long for a .npy file");

  std::vector<uint8_t> out(magic, magic + magicSize);
  out.push_back(major);
  out.push_back(0);
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    out.push_back(uint8_t(headerSize >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  out.resize(out.size() + (headerSize - dict.size() - 1), ' ');
  out.push_back('\n');
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

Status lathe::rt::writeNpy(const std::string &path, const NpyArray &array) {
  Expected<std::vector<uint8_t>> bytes = serializeNpy(array);
  if (!bytes.ok())
    return bytes.status().withContext(path);
  int fd;
  do
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return makeError(path, ": cannot open for writing: ", std::strerror(errno));
  bool written = writeAll(fd, bytes->data(), bytes->size());
  int writeErrno = errno;
  if (::close(fd) != 0 && written)
    return makeError(path, ": cannot write: ", std::strerror(errno));
  if (!written)
    return makeError(path, ": cannot write: ", std::strerror(writeErrno));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

Expected<std::vector<int64_t>> lathe::rt::toInt64(const NpyArray &array) {
  if (array.dtype != DType::I32 && array.dtype != DType::I64)
    return makeError("expected an int32 or int64 array, found ",
                     numpyTypeName(array.dtype));
  if (Status s = checkSize(array.dtype, array.shape, array.data.size());
      !s.ok())
    return s;
  size_t elementSize = dtypeSize(array.dtype);
  size_t count = array.data.size() / elementSize;
  std::vector<int64_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t *element = array.data.data() + i * elementSize;
    if (array.dtype == DType::I32) {
      int32_t value;
      std::memcpy(&value, element, sizeof(value));
      values[i] = value;
    } else {
      std::memcpy(&values[i], element, sizeof(int64_t));
    }
  }
  return values;
}

const char *lathe::rt::numpyTypeName(DType dtype) {
  switch (dtype) {
  case DType::Bool:
    return "bool";
  case DType::U8:
    return "uint8";
  case DType::I8:
    return "int8";
  case DType::U16:
    return "uint16";
  case DType::I16:
    return "int16";
  case DType::F16:
    return "float16";
  case DType::BF16:
    return "bfloat16";
  case DType::U32:
    return "uint32";
  case DType::I32:
    return "int32";
  case DType::F32:
    return "float32";
  case DType::U64:
    return "uint64";
  case DType::I64:
    return "int64";
  case DType::F64:
    return "float64";
  case DType::F8E4M3:
    return "float8_e4m3fn";
  case DType::F8E5M2:
    return "float8_e5m2";
  }
  return "<invalid dtype>";
}

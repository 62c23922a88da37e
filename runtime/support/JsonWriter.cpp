//===- JsonWriter.cpp - JSON output of the runtime's tools ----------------===//

#include "runtime/support/JsonWriter.h"

#include <charconv>
#include <cmath>

using namespace lathe::rt;

namespace {

/// The length of the valid UTF-8 sequence at text[i], or 0.
size_t utf8Length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return uint8_t(text[k]); };
  uint8_t lead = byte(i);
  size_t length;
  uint32_t min;
  if (lead < 0x80)
    return 1;
  if ((lead & 0xe0) == 0xc0)
    length = 2, min = 0x80;
  else if ((lead & 0xf0) == 0xe0)
    length = 3, min = 0x800;
  else if ((lead & 0xf8) == 0xf0)
    length = 4, min = 0x10000;
  else
    return 0;
  if (i + length > text.size())
    return 0;
  uint32_t code = lead & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80)
      return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
    return 0;
  return length;
}

} // namespace

void JsonWriter::newline() {
  if (!pretty)
    return;
  out << '\n';
  for (size_t i = 0; i < counts.size(); ++i)
    out << "  ";
}

void JsonWriter::prefix() {
  if (afterKey) {
    afterKey = false;
    return;
  }
  if (counts.empty())
    return;
  if (counts.back()++ > 0)
    out << ',';
  newline();
}

void JsonWriter::open(char bracket) {
  prefix();
  out << bracket;
  counts.push_back(0);
}

void JsonWriter::close(char bracket) {
  bool empty = counts.back() == 0;
  counts.pop_back();
  if (!empty)
    newline();
  out << bracket;
  if (counts.empty() && pretty)
    out << '\n';
}

void JsonWriter::key(std::string_view name) {
  prefix();
  writeString(name);
  out << (pretty ? ": " : ":");
  afterKey = true;
}

void JsonWriter::value(std::string_view text) {
  prefix();
  writeString(text);
}

void JsonWriter::value(bool flag) {
  prefix();
  out << (flag ? "true" : "false");
}

void JsonWriter::value(int64_t number) {
  prefix();
  out << number;
}

void JsonWriter::value(uint64_t number) {
  prefix();
  out << number;
}

void JsonWriter::value(double number) {
  prefix();
  if (!std::isfinite(number)) {
    out << "null";
    return;
  }
  char text[32];
  auto result = std::to_chars(text, text + sizeof(text), number);
  out.write(text, result.ptr - text);
}

void JsonWriter::null() {
  prefix();
  out << "null";
}

void JsonWriter::writeString(std::string_view text) {
  static const char hexDigits[] = "0123456789abcdef";
  out << '"';
  for (size_t i = 0; i < text.size();) {
    uint8_t byte = uint8_t(text[i]);
    if (byte == '"' || byte == '\\') {
      out << '\\' << char(byte);
      ++i;
    } else if (byte < 0x20) {
      out << "\\u00" << hexDigits[byte >> 4] << hexDigits[byte & 15];
      ++i;
    } else if (size_t length = utf8Length(text, i)) {
      out.write(text.data() + i, std::streamsize(length));
      i += length;
    } else {
      out << "\\ufffd";
      ++i;
    }
  }
  out << '"';
}

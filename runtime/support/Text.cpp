//===- Text.cpp - file contents as error messages show them ---------------===//

#include "runtime/support/Text.h"

using namespace lathe::rt;

std::string lathe::rt::printable(std::string_view text, bool keepUtf8,
                                 size_t maxBytes) {
  static const char hexDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < maxBytes; ++i) {
    uint8_t byte = uint8_t(text[i]);
    if (byte < 0x20 || byte == 0x7f || byte == '\\' ||
        (byte >= 0x80 && !keepUtf8)) {
      out += "\\x";
      out += hexDigits[byte >> 4];
      out += hexDigits[byte & 15];
    } else {
      out += char(byte);
    }
  }
  if (text.size() > maxBytes)
    out += "...";
  return out;
}

std::string lathe::rt::formatShape(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string lathe::rt::hex64(uint64_t value) {
  static const char hexDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 60; shift >= 0; shift -= 4)
    out += hexDigits[(value >> shift) & 15];
  return out;
}

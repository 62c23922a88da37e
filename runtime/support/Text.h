//===- Text.h - file contents as error messages show them -------*- C++ -*-===//
//
// Untrusted names and header text end up in error messages; these keep such
// messages on one line and readable.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_TEXT_H
#define LATHE_RUNTIME_SUPPORT_TEXT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::rt {

/// `text` with control bytes, DEL and backslashes written as `\xnn`, and
/// bytes from 0x80 up too unless `keepUtf8` (tensor names are UTF-8; a .npy
/// header is ASCII). Longer text is cut at `maxBytes` bytes, with "...".
std::string printable(std::string_view text, bool keepUtf8 = true,
                      size_t maxBytes = 256);

/// "[2, 3]"; "[]" for a scalar.
std::string formatShape(const std::vector<int64_t> &shape);

/// "0x00000000deadbeef": a checksum as messages show it.
std::string hex64(uint64_t value);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_TEXT_H

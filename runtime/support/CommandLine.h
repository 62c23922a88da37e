//===- CommandLine.h - the runtime tools' flags, parsed by hand -*- C++ -*-===//
//
// lathe-run, lathe-inspect and lathe-bench link no LLVM, so they parse
// their flags here: "--name=value" or "--name value" for flags that take a
// value, "--name" for switches, everything else positional ("--" ends the
// flags). Every mistake is an error that names the flag: unknown flags,
// missing or unexpected values, a flag given twice that may appear once,
// and values that are not numbers in range.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_COMMANDLINE_H
#define LATHE_RUNTIME_SUPPORT_COMMANDLINE_H

#include "runtime/support/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::rt {

struct FlagSpec {
  /// Without the dashes: "threads".
  const char *name;
  bool takesValue;
  /// May be given more than once (--input=@a.npy --input=@b.npy).
  bool repeatable = false;
};

class CommandLine {
public:
  /// Parses argv[1..argc) against `flags`; "-h" is "--help" when `flags`
  /// has a help switch.
  static Expected<CommandLine> parse(int argc, const char *const *argv,
                                     const std::vector<FlagSpec> &flags);

  const std::vector<std::string> &positionals() const { return positional; }
  bool has(std::string_view name) const;
  /// The value of a once-only flag, if given.
  std::optional<std::string> value(std::string_view name) const;
  /// Every value of a flag, in order.
  std::vector<std::string> values(std::string_view name) const;
  /// The flags given, in order, as their names.
  std::vector<std::string> given() const;

private:
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;
};

/// `text` as a decimal integer in [min, max]; errors read "--FLAG=TEXT: ...".
Expected<int64_t> parseInteger(std::string_view flag, std::string_view text,
                               int64_t min, int64_t max);
/// `text` as a decimal unsigned 64-bit integer.
Expected<uint64_t> parseUnsigned(std::string_view flag, std::string_view text);
/// `text` as a finite number.
Expected<double> parseNumber(std::string_view flag, std::string_view text);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_COMMANDLINE_H

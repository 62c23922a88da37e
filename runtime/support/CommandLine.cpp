//===- CommandLine.cpp - the runtime tools' flags, parsed by hand ---------===//

#include "runtime/support/CommandLine.h"

#include "runtime/support/Text.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace lathe::rt;

namespace {

const FlagSpec *lookUp(const std::vector<FlagSpec> &flags,
                       std::string_view name) {
  for (const FlagSpec &flag : flags)
    if (name == flag.name)
      return &flag;
  return nullptr;
}

std::string show(std::string_view flag, std::string_view text) {
  return "--" + std::string(flag) + "=" + printable(text, true, 64);
}

} // namespace

Expected<CommandLine> CommandLine::parse(int argc, const char *const *argv,
                                         const std::vector<FlagSpec> &flags) {
  CommandLine line;
  bool flagsEnded = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (flagsEnded || arg.size() < 2 || arg[0] != '-') {
      line.positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flagsEnded = true;
      continue;
    }
    if (arg == "-h" && lookUp(flags, "help"))
      arg = "--help";
    if (arg.substr(0, 2) != "--")
      return makeError("unknown option '", printable(arg, true, 64),
                       "' (options are spelled --name)");
    std::string_view body = arg.substr(2);
    size_t equals = body.find('=');
    std::string_view name = body.substr(0, equals);
    const FlagSpec *spec = lookUp(flags, name);
    if (!spec)
      return makeError("unknown option '--", printable(name, true, 64), "'");
    std::string value;
    if (spec->takesValue) {
      if (equals != std::string_view::npos) {
        value = std::string(body.substr(equals + 1));
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return makeError("--", name, " needs a value: --", name, "=VALUE");
      }
    } else if (equals != std::string_view::npos) {
      return makeError("--", name, " takes no value");
    }
    if (!spec->repeatable && line.has(name))
      return makeError("--", name, " is given more than once");
    line.flags.emplace_back(std::string(name), std::move(value));
  }
  return line;
}

bool CommandLine::has(std::string_view name) const {
  for (const auto &flag : flags)
    if (flag.first == name)
      return true;
  return false;
}

std::optional<std::string> CommandLine::value(std::string_view name) const {
  for (const auto &flag : flags)
    if (flag.first == name)
      return flag.second;
  return std::nullopt;
}

std::vector<std::string> CommandLine::values(std::string_view name) const {
  std::vector<std::string> all;
  for (const auto &flag : flags)
    if (flag.first == name)
      all.push_back(flag.second);
  return all;
}

std::vector<std::string> CommandLine::given() const {
  std::vector<std::string> names;
  for (const auto &flag : flags)
    names.push_back(flag.first);
  return names;
}

Expected<int64_t> lathe::rt::parseInteger(std::string_view flag,
                                          std::string_view text, int64_t min,
                                          int64_t max) {
  std::string copy(text);
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(copy.c_str(), &end, 10);
  if (copy.empty() || *end != '\0' || std::isspace(uint8_t(copy[0])))
    return makeError(show(flag, text), ": not an integer");
  if (errno == ERANGE || value < min || value > max)
    return makeError(show(flag, text), ": must be in [", min, ", ", max, "]");
  return int64_t(value);
}

Expected<uint64_t> lathe::rt::parseUnsigned(std::string_view flag,
                                            std::string_view text) {
  std::string copy(text);
  if (copy.empty() || !std::isdigit(uint8_t(copy[0])))
    return makeError(show(flag, text), ": not an unsigned integer");
  errno = 0;
  char *end = nullptr;
  unsigned long long value = std::strtoull(copy.c_str(), &end, 10);
  if (*end != '\0')
    return makeError(show(flag, text), ": not an unsigned integer");
  if (errno == ERANGE)
    return makeError(show(flag, text), ": does not fit in 64 bits");
  return uint64_t(value);
}

Expected<double> lathe::rt::parseNumber(std::string_view flag,
                                        std::string_view text) {
  std::string copy(text);
  errno = 0;
  char *end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || std::isspace(uint8_t(copy[0])))
    return makeError(show(flag, text), ": not a number");
  if (!std::isfinite(value) || errno == ERANGE)
    return makeError(show(flag, text), ": not a finite number");
  return value;
}

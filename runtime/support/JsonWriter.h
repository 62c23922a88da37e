//===- JsonWriter.h - JSON output of the runtime's tools -------*- C++ -*-===//
//
// lathe-inspect --json and lathe-bench --json print one object that
// scripts parse. Strings from a bundle are arbitrary bytes, so the writer
// escapes control characters and replaces invalid UTF-8 with U+FFFD: the
// output is always valid JSON. Non-finite numbers print as null.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_JSONWRITER_H
#define LATHE_RUNTIME_SUPPORT_JSONWRITER_H

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace lathe::rt {

class JsonWriter {
public:
  /// Writes to `out`, two-space indented (or on one line if not `pretty`).
  explicit JsonWriter(std::ostream &out, bool pretty = true)
      : out(out), pretty(pretty) {}

  void beginObject() { open('{'); }
  void endObject() { close('}'); }
  void beginArray() { open('['); }
  void endArray() { close(']'); }

  /// The key of the next member of the enclosing object.
  void key(std::string_view name);

  void value(std::string_view text);
  void value(const char *text) { value(std::string_view(text)); }
  void value(bool flag);
  void value(int64_t number);
  void value(uint64_t number);
  void value(int number) { value(int64_t(number)); }
  void value(unsigned number) { value(uint64_t(number)); }
  void value(double number);
  void null();

  /// key(name) then value(v).
  template <typename T> void member(std::string_view name, const T &v) {
    key(name);
    value(v);
  }

private:
  void open(char bracket);
  void close(char bracket);
  /// Separator and indentation before a value (not after a key).
  void prefix();
  void newline();
  void writeString(std::string_view text);

  std::ostream &out;
  bool pretty;
  /// Per open bracket: the number of entries written so far.
  std::vector<int> counts;
  bool afterKey = false;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_JSONWRITER_H

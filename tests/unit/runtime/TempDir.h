//===- TempDir.h - a scratch directory for runtime tests --------*- C++ -*-===//

#ifndef LATHE_TESTS_UNIT_RUNTIME_TEMPDIR_H
#define LATHE_TESTS_UNIT_RUNTIME_TEMPDIR_H

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace lathe::rt::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with its files.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/lathe-rt-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()))
      dir = buffer.data();
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  ~TempDir() {
    for (const std::string &file : files)
      ::unlink(file.c_str());
    if (!dir.empty())
      ::rmdir(dir.c_str());
  }

  bool ok() const { return !dir.empty(); }
  const std::string &path() const { return dir; }

  /// The path of `name` in the directory, removed with it.
  std::string track(const std::string &name) {
    files.push_back(dir + "/" + name);
    return files.back();
  }

  /// Writes `contents` to `name` and returns its path.
  std::string write(const std::string &name, const std::string &contents) {
    std::string file = track(name);
    std::ofstream out(file, std::ios::binary);
    out << contents;
    return file;
  }

private:
  std::string dir;
  std::vector<std::string> files;
};

} // namespace lathe::rt::testing

#endif // LATHE_TESTS_UNIT_RUNTIME_TEMPDIR_H

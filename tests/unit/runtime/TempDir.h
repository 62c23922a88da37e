//===- TempDir.h - a scratch directory for runtime tests --------*- C++ -*-===//

#ifndef LATHE_TESTS_UNIT_RUNTIME_TEMPDIR_H
#define LATHE_TESTS_UNIT_RUNTIME_TEMPDIR_H

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ftw.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace lathe::rt::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything under
/// it (tests make subdirectories and move trees inside it).
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
    if (!dir.empty())
      ::nftw(dir.c_str(), remove, 16, FTW_DEPTH | FTW_PHYS);
  }

  bool ok() const { return !dir.empty(); }
  const std::string &path() const { return dir; }

  /// The path of `name` in the directory.
  std::string track(const std::string &name) { return dir + "/" + name; }

  /// The path of `relative` under the directory, its parent directories
  /// created.
  std::string make(const std::string &relative) {
    size_t start = 0;
    for (size_t slash; (slash = relative.find('/', start)) != std::string::npos;
         start = slash + 1)
      ::mkdir((dir + "/" + relative.substr(0, slash)).c_str(), 0700);
    return dir + "/" + relative;
  }

  /// Writes `contents` to `name` and returns its path.
  std::string write(const std::string &name, const std::string &contents) {
    std::string file = track(name);
    std::ofstream out(file, std::ios::binary);
    out << contents;
    return file;
  }

private:
  static int remove(const char *path, const struct stat *, int, struct FTW *) {
    return ::remove(path);
  }

  std::string dir;
};

} // namespace lathe::rt::testing

#endif // LATHE_TESTS_UNIT_RUNTIME_TEMPDIR_H

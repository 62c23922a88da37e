//===- ScratchDir.h - a scratch directory tree for tests -------*- C++ -*-===//
//
// Bundle tests need subdirectories (a bundle beside its checkpoint folder)
// and to move whole trees; TempDir keeps one flat folder. This one removes
// everything under it.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TESTS_UNIT_RUNTIME_SCRATCHDIR_H
#define LATHE_TESTS_UNIT_RUNTIME_SCRATCHDIR_H

#include <cstdlib>
#include <ftw.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace lathe::rt::testing {

class ScratchDir {
public:
  ScratchDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/lathe-rt-exec-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()))
      root = buffer.data();
  }
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;
  ~ScratchDir() {
    if (!root.empty())
      ::nftw(root.c_str(), remove, 16, FTW_DEPTH | FTW_PHYS);
  }

  bool ok() const { return !root.empty(); }
  const std::string &path() const { return root; }

  /// `relative` under the root, its parent directories created.
  std::string make(const std::string &relative) {
    std::string path = root;
    size_t start = 0;
    for (size_t slash; (slash = relative.find('/', start)) != std::string::npos;
         start = slash + 1) {
      path = root + "/" + relative.substr(0, slash);
      ::mkdir(path.c_str(), 0700);
    }
    return root + "/" + relative;
  }

private:
  static int remove(const char *path, const struct stat *, int, struct FTW *) {
    return ::remove(path);
  }

  std::string root;
};

} // namespace lathe::rt::testing

#endif // LATHE_TESTS_UNIT_RUNTIME_SCRATCHDIR_H

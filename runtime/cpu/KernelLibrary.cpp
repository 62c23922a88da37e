//===- KernelLibrary.cpp - a CPU target's code, loaded with dlopen --------===//

#include "runtime/cpu/KernelLibrary.h"

#include "runtime/cpu/KernelABI.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace lathe::rt;

namespace {

/// Checks the ELF header, so that a wrong object gets a clearer message
/// than dlopen's.
Status checkElf(const uint8_t *code, size_t size) {
  if (size < sizeof(Elf64_Ehdr) || std::memcmp(code, ELFMAG, SELFMAG) != 0)
    return Status::error("the code is not an ELF file");
  Elf64_Ehdr header;
  std::memcpy(&header, code, sizeof(header));
  if (header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB)
    return Status::error("the code is not a 64-bit little-endian ELF file");
  if (header.e_type != ET_DYN)
    return makeError("the code is an ELF file of type ", header.e_type,
                     ", not a shared object (ET_DYN)");
#if defined(__x86_64__)
  if (header.e_machine != EM_X86_64)
    return makeError("the code is for ELF machine ", header.e_machine,
                     ", not x86-64 (", EM_X86_64, ")");
#endif
  return Status::success();
}

/// Writes all of `size` bytes to `fd`.
Status writeAll(int fd, const uint8_t *bytes, size_t size) {
  while (size > 0) {
    ssize_t written = ::write(fd, bytes, size);
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return makeError("cannot write the code to a file: ",
                       written < 0 ? std::strerror(errno) : "no progress");
    bytes += written;
    size -= size_t(written);
  }
  return Status::success();
}

/// Whether an object named `path` is loaded. dlopen returns the object
/// already loaded under a name instead of loading the file again, and
/// /proc/self/fd/N names (or a reused temporary name) repeat.
bool nameInUse(const std::string &path) {
  struct Search {
    const char *path;
    bool found;
  } search{path.c_str(), false};
  ::dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *data) {
        auto *found = static_cast<Search *>(data);
        if (info->dlpi_name && std::strcmp(info->dlpi_name, found->path) == 0) {
          found->found = true;
          return 1;
        }
        return 0;
      },
      &search);
  return search.found;
}

std::string lastDlError() {
  const char *message = dlerror();
  return message ? message : "unknown dlopen error";
}

/// dlopen of an anonymous memory file holding the code; null handle (no
/// error) when memfd or /proc is unavailable.
Expected<void *> openFromMemfd(const uint8_t *code, size_t size) {
  int fd = ::memfd_create("lathe-cpu-kernels", MFD_CLOEXEC);
  if (fd < 0)
    return static_cast<void *>(nullptr);
  Status written = writeAll(fd, code, size);
  if (!written.ok()) {
    ::close(fd);
    return written;
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (::access(path.c_str(), R_OK) != 0) {
    ::close(fd);
    return static_cast<void *>(nullptr);
  }
  // An object loaded earlier from a descriptor of this number may still be
  // loaded (another session, or one dlclose could not unload): move to a
  // number whose name is free.
  for (int tries = 0; nameInUse(path); ++tries) {
    int moved = tries < 1024 ? ::fcntl(fd, F_DUPFD_CLOEXEC, fd + 1) : -1;
    ::close(fd);
    if (moved < 0)
      return Status::error("no free file descriptor to load the code from");
    fd = moved;
    path = "/proc/self/fd/" + std::to_string(fd);
  }
  void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  std::string error = handle ? "" : lastDlError();
  // The mapping dlopen made keeps the file alive.
  ::close(fd);
  if (!handle)
    return makeError("dlopen failed: ", error);
  return handle;
}

/// dlopen of a private temporary file, removed right after.
Expected<void *> openFromTempFile(const uint8_t *code, size_t size) {
  const char *base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base && *base ? base : "/tmp") + "/lathe-cpu-kernels-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0)
    return makeError("cannot create a temporary file in ", pattern, ": ",
                     std::strerror(errno));
  // mkostemp can repeat the name of an earlier, removed file that an
  // object loaded from is still known by.
  for (int tries = 0; fd >= 0 && nameInUse(name.data()) && tries < 100;
       ++tries) {
    std::vector<char> other(pattern.begin(), pattern.end());
    other.push_back('\0');
    int fresh = ::mkostemp(other.data(), O_CLOEXEC);
    ::close(fd);
    ::unlink(name.data());
    fd = fresh;
    name = std::move(other);
  }
  if (fd < 0 || nameInUse(name.data())) {
    if (fd >= 0) {
      ::close(fd);
      ::unlink(name.data());
    }
    return makeError("cannot create a fresh temporary file in ", pattern);
  }
  Status written = writeAll(fd, code, size);
  ::close(fd);
  void *handle = nullptr;
  std::string error;
  if (written.ok()) {
    handle = ::dlopen(name.data(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      error = lastDlError();
  }
  ::unlink(name.data());
  if (!written.ok())
    return written;
  if (!handle)
    return makeError("dlopen failed: ", error);
  return handle;
}

} // namespace

Expected<KernelLibrary> KernelLibrary::load(const uint8_t *code, size_t size) {
  if (Status status = checkElf(code, size); !status.ok())
    return status;
  Expected<void *> handle = openFromMemfd(code, size);
  if (!handle)
    return handle.status();
  if (!*handle) {
    handle = openFromTempFile(code, size);
    if (!handle)
      return handle.status();
  }
  KernelLibrary library(*handle);

  Expected<void *> version = library.symbol("lathe_cpu_abi_version");
  if (!version)
    return Status::error("the code does not export lathe_cpu_abi_version "
                         "(not a lathe CPU kernel library)");
  uint32_t abi = *static_cast<const uint32_t *>(*version);
  if (abi != LATHE_CPU_ABI_VERSION)
    return makeError("the code speaks CPU kernel ABI version ", abi,
                     "; this runtime speaks version ", LATHE_CPU_ABI_VERSION);
  return library;
}

KernelLibrary::KernelLibrary(KernelLibrary &&other) noexcept
    : handle(other.handle) {
  other.handle = nullptr;
}

KernelLibrary &KernelLibrary::operator=(KernelLibrary &&other) noexcept {
  if (this != &other) {
    close();
    handle = other.handle;
    other.handle = nullptr;
  }
  return *this;
}

KernelLibrary::~KernelLibrary() { close(); }

void KernelLibrary::close() {
  if (handle)
    ::dlclose(handle);
  handle = nullptr;
}

Expected<void *> KernelLibrary::symbol(const std::string &name) const {
  dlerror();
  void *address = ::dlsym(handle, name.c_str());
  if (!address)
    return makeError("the code does not export symbol '", name, "'");
  // dlsym also searches the object's dependencies: a kernel named "memcpy"
  // must not resolve to libc's.
  struct link_map *own = nullptr, *definer = nullptr;
  Dl_info info;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &own) != 0 ||
      !::dladdr1(address, &info, reinterpret_cast<void **>(&definer),
                 RTLD_DL_LINKMAP) ||
      own != definer)
    return makeError("the code does not define symbol '", name,
                     "' (a library it links does)");
  return address;
}

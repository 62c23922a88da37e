//===- KernelLibrary.h - a CPU target's code, via dlopen -------*- C++ -*-===//
//
// A CPU target carries its kernels as an ELF shared object inside the
// bundle. dlopen needs a file, so the bytes go to an anonymous memory file
// (memfd_create) that nothing else can see and that vanishes with the
// process, or, where memfd is unavailable, to a private temporary file that
// is removed once loaded. Each load is its own object: two sessions of one
// bundle never share a handle.
//
// Loading runs the object's initializers: a bundle is code, to be run only
// when trusted. The checks here catch wrong and damaged code (not ELF, not
// this machine's, another ABI version, a missing symbol), not malice.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_CPU_KERNELLIBRARY_H
#define LATHE_RUNTIME_CPU_KERNELLIBRARY_H

#include "runtime/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace lathe::rt {

class KernelLibrary {
public:
  /// Loads the `size` bytes at `code` as a shared object and checks that it
  /// exports `uint32_t lathe_cpu_abi_version` equal to
  /// LATHE_CPU_ABI_VERSION. Messages carry no context.
  static Expected<KernelLibrary> load(const uint8_t *code, size_t size);

  KernelLibrary(KernelLibrary &&other) noexcept;
  KernelLibrary &operator=(KernelLibrary &&other) noexcept;
  KernelLibrary(const KernelLibrary &) = delete;
  KernelLibrary &operator=(const KernelLibrary &) = delete;
  ~KernelLibrary();

  /// The address of `name`, or an error naming it.
  Expected<void *> symbol(const std::string &name) const;

private:
  explicit KernelLibrary(void *handle) : handle(handle) {}
  void close();

  void *handle = nullptr;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_CPU_KERNELLIBRARY_H

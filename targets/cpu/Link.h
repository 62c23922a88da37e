//===- Link.h - an object file to a shared object ----------------*- C++ -*-===//
//
// The last step of the CPU target: the kernels' ELF object linked into the
// shared object a bundle carries, in-process with lld when lathe was built
// with it (LATHE_HAVE_LLD), else with the system's `cc -shared`.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_LINK_H
#define LATHE_TARGETS_CPU_LINK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace lathe::cpu {

/// Checks that `object` needs no symbol a process may lack (it may call
/// memcpy, memset and memmove, which every process has from libc), then
/// links it with `-shared`. Temporary files live in $TMPDIR and are removed.
llvm::Expected<std::vector<char>> linkSharedObject(llvm::ArrayRef<char> object);

/// "lld" or "cc": what linkSharedObject uses.
const char *linkerName();

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_LINK_H

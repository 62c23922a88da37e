//===- Phase.h - the named phases of a compilation --------------*- C++ -*-===//
//
// `input` (imported graph), `optimized` (graph passes done), `kernels` (each
// fused op outlined into a kernel) and `bundle` (the final artifact): stable
// names for --compile-to, --compile-from and dump files.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_PHASE_H
#define LATHE_COMPILER_PHASE_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace lathe {

enum class Phase { Input = 0, Optimized = 1, Kernels = 2, Bundle = 3 };

llvm::StringRef phaseName(Phase phase);
std::optional<Phase> parsePhase(llvm::StringRef name);

} // namespace lathe

#endif // LATHE_COMPILER_PHASE_H

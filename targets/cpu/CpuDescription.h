//===- CpuDescription.h - what the generators know of a CPU ------*- C++ -*-===//
//
// The one table of hardware constants the CPU kernel generators use
// (STYLE.md: constants of the hardware come from one description, not
// literals in generators): vector width and register count decide the
// GEMM's register blocking, F16C whether FP8 codes widen through f16.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_CPUDESCRIPTION_H
#define LATHE_TARGETS_CPU_CPUDESCRIPTION_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>

namespace lathe::cpu {

struct CpuDescription {
  /// f32 lanes of one vector register: 16 with AVX-512, 8 with AVX, 4 with
  /// SSE.
  int64_t lanes = 4;
  /// Vector registers the register allocator can give out.
  int64_t registers = 16;
  /// F16C: f16 -> f32 conversion in hardware (vcvtph2ps).
  bool hasF16C = false;

  /// The description of a CPU with these features (GCC names, as
  /// CpuObject::features lists them).
  static CpuDescription forFeatures(llvm::ArrayRef<std::string> features);
};

} // namespace lathe::cpu

#endif // LATHE_TARGETS_CPU_CPUDESCRIPTION_H

//===- CpuDescription.cpp - what the generators know of a CPU -------------===//

#include "targets/cpu/CpuDescription.h"

#include "llvm/ADT/STLExtras.h"

using namespace lathe::cpu;

CpuDescription
CpuDescription::forFeatures(llvm::ArrayRef<std::string> features) {
  auto has = [&](const char *name) {
    return llvm::is_contained(features, std::string(name));
  };
  CpuDescription cpu;
  if (has("avx512f")) {
    cpu.lanes = 16;
    cpu.registers = 32;
  } else if (has("avx")) {
    cpu.lanes = 8;
    cpu.registers = 16;
  }
  cpu.hasF16C = has("f16c");
  return cpu;
}

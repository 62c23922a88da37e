//===- Phase.cpp - the named phases of a compilation ----------------------===//

#include "compiler/Phase.h"

#include "llvm/ADT/StringSwitch.h"

using namespace lathe;

llvm::StringRef lathe::phaseName(Phase phase) {
  switch (phase) {
  case Phase::Input:
    return "input";
  case Phase::Optimized:
    return "optimized";
  case Phase::Kernels:
    return "kernels";
  case Phase::Bundle:
    return "bundle";
  }
  return "unknown";
}

std::optional<Phase> lathe::parsePhase(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Phase>>(name)
      .Case("input", Phase::Input)
      .Case("optimized", Phase::Optimized)
      .Case("kernels", Phase::Kernels)
      .Case("bundle", Phase::Bundle)
      .Default(std::nullopt);
}

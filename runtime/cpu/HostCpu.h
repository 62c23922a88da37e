//===- HostCpu.h - what this machine's CPU offers --------------*- C++ -*-===//
//
// A CPU target names the instruction sets its code uses the way GCC's
// __builtin_cpu_supports names them; the runtime refuses to run code whose
// instructions would fault here. The builtin takes only literal names, so
// this file keeps the table of names it can check. The thread pool's
// default size comes from here too: one thread per physical core the
// process may run on.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_CPU_HOSTCPU_H
#define LATHE_RUNTIME_CPU_HOSTCPU_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::rt {

/// Whether this CPU (and OS) supports `feature`, a __builtin_cpu_supports
/// name ("avx2", "avx512bf16"); none when this runtime cannot check it.
std::optional<bool> hostHasFeature(std::string_view feature);

/// The names of `features` this machine lacks, then those this runtime
/// cannot check, each as "name" or "name (unknown feature)".
std::vector<std::string>
missingHostFeatures(const std::vector<std::string> &features);

/// Every feature name this runtime can check that the host has.
std::vector<std::string> hostFeatures();

/// The CPU's model name ("AMD EPYC 9654 96-Core Processor"), or "" when
/// the CPUID brand string is unavailable.
std::string hostCpuName();

/// Physical cores among the CPUs this process may run on (hyperthread
/// siblings count once); at least 1.
unsigned hostPhysicalCores();

} // namespace lathe::rt

#endif // LATHE_RUNTIME_CPU_HOSTCPU_H

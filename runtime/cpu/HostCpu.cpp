//===- HostCpu.cpp - what this machine's CPU offers -----------------------===//

#include "runtime/cpu/HostCpu.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sched.h>
#include <set>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

using namespace lathe::rt;

namespace {

struct Feature {
  const char *name;
  bool (*supported)();
};

#if defined(__x86_64__) || defined(__i386__)
// __builtin_cpu_supports needs a literal, hence one lambda per name.
#define LATHE_FEATURE(NAME)                                                    \
  Feature {                                                                    \
    NAME, [] { return __builtin_cpu_supports(NAME) != 0; }                     \
  }

// The names both GCC 12 and clang 14 accept, in their order of arrival.
const Feature features[] = {
    LATHE_FEATURE("cmov"),
    LATHE_FEATURE("mmx"),
    LATHE_FEATURE("popcnt"),
    LATHE_FEATURE("sse"),
    LATHE_FEATURE("sse2"),
    LATHE_FEATURE("sse3"),
    LATHE_FEATURE("ssse3"),
    LATHE_FEATURE("sse4.1"),
    LATHE_FEATURE("sse4.2"),
    LATHE_FEATURE("avx"),
    LATHE_FEATURE("avx2"),
    LATHE_FEATURE("sse4a"),
    LATHE_FEATURE("fma4"),
    LATHE_FEATURE("xop"),
    LATHE_FEATURE("fma"),
    LATHE_FEATURE("avx512f"),
    LATHE_FEATURE("bmi"),
    LATHE_FEATURE("bmi2"),
    LATHE_FEATURE("aes"),
    LATHE_FEATURE("pclmul"),
    LATHE_FEATURE("avx512vl"),
    LATHE_FEATURE("avx512bw"),
    LATHE_FEATURE("avx512dq"),
    LATHE_FEATURE("avx512cd"),
    LATHE_FEATURE("avx512er"),
    LATHE_FEATURE("avx512pf"),
    LATHE_FEATURE("avx512vbmi"),
    LATHE_FEATURE("avx512ifma"),
    LATHE_FEATURE("avx5124vnniw"),
    LATHE_FEATURE("avx5124fmaps"),
    LATHE_FEATURE("avx512vpopcntdq"),
    LATHE_FEATURE("avx512vbmi2"),
    LATHE_FEATURE("gfni"),
    LATHE_FEATURE("vpclmulqdq"),
    LATHE_FEATURE("avx512vnni"),
    LATHE_FEATURE("avx512bitalg"),
    LATHE_FEATURE("avx512bf16"),
    LATHE_FEATURE("avx512vp2intersect"),
// Names GCC 12 knows and clang 14 does not.
#if !defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 12
    LATHE_FEATURE("f16c"),
    LATHE_FEATURE("movbe"),
    LATHE_FEATURE("sha"),
    LATHE_FEATURE("adx"),
    LATHE_FEATURE("lzcnt"),
    LATHE_FEATURE("avxvnni"),
    LATHE_FEATURE("avx512fp16"),
    LATHE_FEATURE("amx-tile"),
    LATHE_FEATURE("amx-int8"),
    LATHE_FEATURE("amx-bf16"),
    LATHE_FEATURE("x86-64"),
    LATHE_FEATURE("x86-64-v2"),
    LATHE_FEATURE("x86-64-v3"),
    LATHE_FEATURE("x86-64-v4"),
#endif
};
#undef LATHE_FEATURE
#endif
// Elsewhere no name can be checked, so any listed feature is refused.

template <typename F> void forEachFeature(F &&visit) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  for (const Feature &feature : features)
    visit(feature);
#else
  (void)visit;
#endif
}

} // namespace

std::optional<bool> lathe::rt::hostHasFeature(std::string_view name) {
  std::optional<bool> result;
  forEachFeature([&](const Feature &feature) {
    if (!result && name == feature.name)
      result = feature.supported();
  });
  return result;
}

std::vector<std::string>
lathe::rt::missingHostFeatures(const std::vector<std::string> &wanted) {
  std::vector<std::string> lacking, unknown;
  for (const std::string &name : wanted) {
    std::optional<bool> has = hostHasFeature(name);
    if (!has)
      unknown.push_back(name + " (unknown feature)");
    else if (!*has)
      lacking.push_back(name);
  }
  lacking.insert(lacking.end(), unknown.begin(), unknown.end());
  return lacking;
}

std::vector<std::string> lathe::rt::hostFeatures() {
  std::vector<std::string> present;
  forEachFeature([&](const Feature &feature) {
    if (feature.supported())
      present.push_back(feature.name);
  });
  return present;
}

std::string lathe::rt::hostCpuName() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) || eax < 0x80000004)
    return "";
  char brand[49] = {};
  for (unsigned leaf = 0; leaf < 3; ++leaf) {
    __get_cpuid(0x80000002 + leaf, &eax, &ebx, &ecx, &edx);
    unsigned words[4] = {eax, ebx, ecx, edx};
    std::memcpy(brand + 16 * leaf, words, 16);
  }
  std::string name(brand);
  size_t first = name.find_first_not_of(' ');
  size_t last = name.find_last_not_of(' ');
  return first == std::string::npos ? "" : name.substr(first, last - first + 1);
#else
  return "";
#endif
}

unsigned lathe::rt::hostPhysicalCores() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
    return 1;
  // Two logical CPUs are one core when sysfs gives them the same package
  // and core id. Without sysfs, each logical CPU counts.
  std::set<std::pair<long, long>> cores;
  unsigned logical = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed))
      continue;
    ++logical;
    std::string topology =
        "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    long package = -1, core = -1;
    std::ifstream(topology + "physical_package_id") >> package;
    std::ifstream(topology + "core_id") >> core;
    if (package < 0 || core < 0)
      cores.insert({-1, cpu});
    else
      cores.insert({package, core});
  }
  if (logical == 0)
    return 1;
  return unsigned(cores.size());
}

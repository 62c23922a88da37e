//===- DeviceSelect.cpp - which device runs a bundle here -----------------===//

#include "runtime/exec/DeviceSelect.h"

#include "runtime/cpu/CpuDevice.h"
#include "runtime/cpu/HostCpu.h"
#include "runtime/support/Text.h"

#include <dlfcn.h>

using namespace lathe::rt;

namespace {

bool isCudaTarget(std::string_view name) {
  return name.size() > 3 && name.substr(0, 3) == "sm_";
}

bool hasCudaDriver() {
  void *driver = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver)
    return false;
  ::dlclose(driver);
  return true;
}

std::string bundleTargets(const Bundle &bundle) {
  std::string list;
  const auto *targets = bundle.root().targets();
  for (uint32_t t = 0; targets && t < targets->size(); ++t)
    list += (list.empty() ? "" : ", ") +
            printable(targets->Get(t)->name()->string_view());
  return list.empty() ? "none" : list;
}

/// "the bundle has targets: ...; this machine has: ...".
std::string inventory(const Bundle &bundle) {
  return "the bundle has targets: " + bundleTargets(bundle) +
         "; this machine has: " + describeMachine();
}

} // namespace

std::optional<DeviceKind> lathe::rt::parseDeviceKind(std::string_view name) {
  if (name == "auto")
    return DeviceKind::Auto;
  if (name == "cpu")
    return DeviceKind::Cpu;
  if (name == "cuda")
    return DeviceKind::Cuda;
  return std::nullopt;
}

const char *lathe::rt::deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Auto:
    return "auto";
  case DeviceKind::Cpu:
    return "cpu";
  case DeviceKind::Cuda:
    return "cuda";
  }
  return "?";
}

std::string lathe::rt::describeMachine() {
  std::string cpu = "cpu";
  std::string detail = hostCpuName();
  // The instruction sets that decide which CPU code runs here.
  for (const char *feature :
       {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512bf16",
        "avx512fp16", "amx-bf16"})
    if (hostHasFeature(feature).value_or(false))
      detail += (detail.empty() ? "" : ", ") + std::string(feature);
  if (!detail.empty())
    cpu += " (" + detail + ")";
  if (hasCudaDriver())
    cpu += ", a CUDA driver (libcuda.so.1)";
  return cpu;
}

Expected<std::unique_ptr<Device>> lathe::rt::createDevice(const Bundle &bundle,
                                                          DeviceKind kind,
                                                          unsigned threads) {
  if (kind == DeviceKind::Cuda) {
    bool bundleHasCuda = false;
    const auto *targets = bundle.root().targets();
    for (uint32_t t = 0; targets && t < targets->size(); ++t)
      bundleHasCuda |= isCudaTarget(targets->Get(t)->name()->string_view());
    return makeError(bundle.name(), ": cannot run on cuda: ",
                     bundleHasCuda
                         ? "this lathe-run has no CUDA device yet (CUDA "
                           "targets run in a later version)"
                         : "the bundle has no CUDA target",
                     "; ", inventory(bundle));
  }
  int64_t cpu = bundle.findTarget("cpu");
  if (cpu < 0)
    return makeError(bundle.name(), ": no target of this bundle runs here: ",
                     inventory(bundle),
                     " (this lathe-run runs only the cpu target)");
  Expected<std::unique_ptr<CpuDevice>> device =
      CpuDevice::create(bundle, uint32_t(cpu), threads);
  if (!device)
    return device.status();
  return std::unique_ptr<Device>(std::move(*device));
}

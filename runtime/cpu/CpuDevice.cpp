//===- CpuDevice.cpp - runs a bundle's CPU target -------------------------===//

#include "runtime/cpu/CpuDevice.h"

#include "runtime/cpu/HostCpu.h"
#include "runtime/support/Text.h"

using namespace lathe::rt;
namespace fb = lathe::bundle;

namespace {

std::string joined(const std::vector<std::string> &items) {
  std::string text;
  for (const std::string &item : items)
    text += (text.empty() ? "" : ", ") + item;
  return text.empty() ? "none" : text;
}

} // namespace

CpuDevice::CpuDevice(KernelLibrary library, std::vector<LatheKernelFn> kernels,
                     std::vector<std::string> kernelNames, unsigned threads)
    : library(std::move(library)), kernels(std::move(kernels)),
      kernelNames(std::move(kernelNames)),
      pool(std::make_unique<ThreadPool>(threads)) {}

Expected<std::unique_ptr<CpuDevice>> CpuDevice::create(const Bundle &bundle,
                                                       uint32_t targetIndex,
                                                       unsigned threads) {
  const fb::Target *target = bundle.root().targets()->Get(targetIndex);
  std::string where =
      bundle.name() + ": targets[" + std::to_string(targetIndex) + "] 'cpu'";

  std::vector<std::string> features;
  if (target->cpu_features())
    for (const flatbuffers::String *feature : *target->cpu_features())
      features.push_back(printable(feature->string_view()));
  std::vector<std::string> missing = missingHostFeatures(features);
  if (!missing.empty()) {
    std::string cpu = hostCpuName();
    return makeError(where, ": the code uses CPU features this machine",
                     cpu.empty() ? "" : " (" + cpu + ")",
                     " lacks: ", joined(missing));
  }

  const auto *code = target->shared_object();
  Expected<KernelLibrary> library =
      KernelLibrary::load(code->data(), code->size());
  if (!library)
    return library.status().withContext(where + ": shared_object");

  std::vector<LatheKernelFn> kernels;
  std::vector<std::string> kernelNames;
  const auto *infos = bundle.root().kernels();
  for (uint32_t k = 0; infos && k < infos->size(); ++k) {
    std::string symbol = target->kernels()->Get(k)->symbol()->str();
    Expected<void *> address = library->symbol(symbol);
    if (!address)
      return address.status().withContext(
          where + ": kernels[" + std::to_string(k) + "] '" +
          printable(infos->Get(k)->name()->string_view()) + "'");
    kernels.push_back(reinterpret_cast<LatheKernelFn>(*address));
    kernelNames.push_back(infos->Get(k)->name()->str());
  }
  return std::unique_ptr<CpuDevice>(
      new CpuDevice(std::move(*library), std::move(kernels),
                    std::move(kernelNames), threads));
}

std::string CpuDevice::describe() const {
  std::string cpu = hostCpuName();
  return "cpu" + (cpu.empty() ? "" : " (" + cpu + ")") + ", " +
         std::to_string(pool->size()) + " threads";
}

Status CpuDevice::launch(uint32_t kernel, void *const *buffers,
                         const int64_t *scalars, const int64_t grid[3]) {
  if (kernel >= kernels.size())
    return makeError("kernel ", kernel, " is out of range");
  LatheDispatch dispatch;
  dispatch.buffers = buffers;
  dispatch.scalars = scalars;
  for (int d = 0; d < 3; ++d) {
    if (grid[d] < 0)
      return makeError("kernel '", kernelNames[kernel], "': grid[", d,
                       "] is negative (", grid[d], ")");
    dispatch.grid[d] = grid[d];
  }
  int64_t count = 0;
  if (__builtin_mul_overflow(grid[0], grid[1], &count) ||
      __builtin_mul_overflow(count, grid[2], &count) ||
      count > (int64_t(1) << 62))
    return makeError("kernel '", kernelNames[kernel], "': grid [", grid[0],
                     ", ", grid[1], ", ", grid[2],
                     "] has more workgroups than the runtime can count");
  LatheKernelFn fn = kernels[kernel];
  pool->run(grid,
            [&](int64_t x, int64_t y, int64_t z) { fn(&dispatch, x, y, z); });
  return Status::success();
}

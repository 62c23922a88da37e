//===- CpuDevice.h - runs a bundle's CPU target ----------------*- C++ -*-===//
//
// The CPU device checks that this machine has the instruction sets the
// target's code uses, loads the code (KernelLibrary), resolves every
// kernel's symbol, and runs launches on a ThreadPool.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_CPU_CPUDEVICE_H
#define LATHE_RUNTIME_CPU_CPUDEVICE_H

#include "runtime/bundle/Bundle.h"
#include "runtime/cpu/KernelABI.h"
#include "runtime/cpu/KernelLibrary.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/device/Device.h"

#include <memory>
#include <vector>

namespace lathe::rt {

class CpuDevice final : public Device {
public:
  /// Prepares targets[targetIndex] (named "cpu") of `bundle` to run with
  /// `threads` threads (0: one per physical core). Errors name the target
  /// and, for a missing symbol, the kernel.
  static Expected<std::unique_ptr<CpuDevice>>
  create(const Bundle &bundle, uint32_t targetIndex, unsigned threads = 0);

  const std::string &targetName() const override { return name; }
  std::string describe() const override;
  Status launch(uint32_t kernel, void *const *buffers, const int64_t *scalars,
                const int64_t grid[3]) override;

  unsigned threads() const { return pool->size(); }

private:
  CpuDevice(KernelLibrary library, std::vector<LatheKernelFn> kernels,
            std::vector<std::string> kernelNames, unsigned threads);

  std::string name = "cpu";
  KernelLibrary library;
  std::vector<LatheKernelFn> kernels;
  std::vector<std::string> kernelNames;
  std::unique_ptr<ThreadPool> pool;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_CPU_CPUDEVICE_H

//===- Device.h - what runs a bundle's kernels ------------------*- C++ -*-===//
//
// A device holds one target's code for every kernel of a bundle and runs a
// launch: kernel k over a grid of workgroups, given the step's buffer
// pointers and evaluated scalars. The executor plans everything else
// (buffers, shapes, the KV cache) the same way for every device. Buffers
// are host memory today, which is all the CPU device needs; a CUDA device
// will add device memory behind this interface.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_DEVICE_DEVICE_H
#define LATHE_RUNTIME_DEVICE_DEVICE_H

#include "runtime/support/Status.h"

#include <cstdint>
#include <string>

namespace lathe::rt {

class Device {
public:
  virtual ~Device() = default;

  /// The target this device runs ("cpu").
  virtual const std::string &targetName() const = 0;

  /// A line for logs: "cpu: AMD EPYC 9654, 8 threads".
  virtual std::string describe() const = 0;

  /// Runs every workgroup of `grid` of kernel `kernel` (an index into
  /// Bundle.kernels) with `buffers` (KernelInfo.num_buffers pointers) and
  /// `scalars` (num_scalars values), and returns when all have finished.
  /// Grid counts must be >= 0; a zero count runs nothing.
  virtual Status launch(uint32_t kernel, void *const *buffers,
                        const int64_t *scalars, const int64_t grid[3]) = 0;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_DEVICE_DEVICE_H

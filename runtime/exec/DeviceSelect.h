//===- DeviceSelect.h - which device runs a bundle here --------*- C++ -*-===//
//
// --device=auto|cpu|cuda: the executor picks the bundle's target for the
// device asked for (auto: the best this machine and this runtime can run),
// or explains what the bundle has and what the machine has. This runtime
// runs the cpu target; CUDA targets (sm_80, sm_90a) are recognised and
// reported but not yet run.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_DEVICESELECT_H
#define LATHE_RUNTIME_EXEC_DEVICESELECT_H

#include "runtime/bundle/Bundle.h"
#include "runtime/device/Device.h"
#include "runtime/support/Status.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace lathe::rt {

enum class DeviceKind { Auto, Cpu, Cuda };

/// "auto", "cpu" or "cuda"; none for anything else.
std::optional<DeviceKind> parseDeviceKind(std::string_view name);
const char *deviceKindName(DeviceKind kind);

/// What this machine offers, for messages: "cpu (Intel Xeon ..., avx2,
/// fma)" and, when libcuda.so.1 loads, "a CUDA driver".
std::string describeMachine();

/// The device of kind `kind` for `bundle`, with `threads` CPU threads (0:
/// one per physical core). Errors read "BUNDLE: ..." and list the bundle's
/// targets and the machine's devices.
Expected<std::unique_ptr<Device>>
createDevice(const Bundle &bundle, DeviceKind kind, unsigned threads = 0);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_DEVICESELECT_H

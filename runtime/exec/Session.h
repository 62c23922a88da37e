//===- Session.h - a bundle ready to call ----------------------*- C++ -*-===//
//
// A Session owns everything a loaded bundle needs to run: the bundle, its
// mapped weights and the pointer arrays of its weight tables, the device,
// the KV cache with each row's length, and one scratch arena per function
// (reserved at arena_bytes, committed as kernels touch it). call() runs a
// function by the Function semantics of docs/bundle-format.md:
//
//  1. symbols come from the inputs' shapes and are checked against their
//     max; every input is checked against its declared dtype and shape;
//  2. a Positions input the caller leaves out is filled with
//     cached[b] + t; a call that writes the cache is refused if any row
//     would pass max_seq_len;
//  3. every step's scalars, grid and buffer pointers are evaluated and
//     checked before the first kernel runs, so a call either fails with
//     nothing changed or runs to the end;
//  4. the steps run in order, each finishing before the next;
//  5. a call that writes the cache advances rows [0, batch) by tokens.
//
// One call at a time: a Session is not safe to share between threads.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_SESSION_H
#define LATHE_RUNTIME_EXEC_SESSION_H

#include "runtime/bundle/Bundle.h"
#include "runtime/bundle/WeightStore.h"
#include "runtime/device/Device.h"
#include "runtime/exec/DeviceSelect.h"
#include "runtime/exec/KVCache.h"
#include "runtime/exec/Memory.h"
#include "runtime/exec/Tensor.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::rt {

/// Wall time of every launch, summed per function and kernel, while a
/// session profiles (lathe-bench --profile).
struct KernelProfile {
  /// [function][kernel]: seconds, and how many launches they took.
  std::vector<std::vector<double>> seconds;
  std::vector<std::vector<uint64_t>> launches;
  /// [function]: calls profiled.
  std::vector<uint64_t> calls;
};

struct SessionOptions {
  DeviceKind device = DeviceKind::Auto;
  /// CPU threads, the caller's included; 0: one per physical core.
  unsigned threads = 0;
};

class Session {
public:
  /// Loads the bundle at `path`, its weights and a device.
  static Expected<std::unique_ptr<Session>>
  open(const std::string &path, const SessionOptions &options = {});

  /// A session over an already loaded bundle.
  static Expected<std::unique_ptr<Session>>
  create(Bundle bundle, const SessionOptions &options = {});

  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  ~Session();

  const Bundle &bundle() const { return loaded; }
  Device &device() { return *dev; }
  const KVCache &kvCache() const { return cache; }

  /// The index of function `name`; the error lists the bundle's functions.
  Expected<uint32_t> findFunction(std::string_view name) const;

  /// Runs function `function` on `inputs`: one per input of the function
  /// in order, or one per input that is not a Positions input (the runtime
  /// fills those). Returns the outputs in order. Errors read "BUNDLE:
  /// function 'NAME': ..." and leave the session as it was.
  Expected<std::vector<Tensor>> call(uint32_t function,
                                     const std::vector<TensorView> &inputs);
  Expected<std::vector<Tensor>> call(std::string_view function,
                                     const std::vector<TensorView> &inputs);

  /// Empties the KV cache: every row's length becomes 0.
  void reset() { cache.reset(); }

  /// Times every launch of later calls into `profile` (sized here), or stops
  /// with null. Timing each launch alone costs a little speed.
  void setProfile(KernelProfile *profile);

private:
  struct FunctionState;
  struct Planned;

  Session(Bundle bundle, WeightStore weights, std::unique_ptr<Device> device,
          KVCache cache);
  /// Matches `inputs` to the function: symbols, shapes, token ids, room in
  /// the KV cache.
  Status bindInputs(FunctionState &state,
                    const std::vector<TensorView> &inputs);
  /// Sizes the function's buffers and evaluates every step's scalars, grid
  /// and buffer pointers.
  Status planSteps(FunctionState &state);
  /// Copies the inputs in, fills a left-out Positions input, zeroes the
  /// outputs.
  void stageInputs(FunctionState &state, const std::vector<TensorView> &inputs);

  Bundle loaded;
  WeightStore weights;
  std::unique_ptr<Device> dev;
  /// The bundle's code for `dev`.
  const lathe::bundle::Target *target = nullptr;
  KVCache cache;
  std::vector<std::vector<const void *>> weightTables;
  std::vector<std::unique_ptr<FunctionState>> functions;
  KernelProfile *profile = nullptr;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_SESSION_H

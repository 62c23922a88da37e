//===- ThreadPool.cpp - runs a launch's grid on the CPU's cores -----------===//
//
// The handshake between run() and a worker, for a slot reused two launches
// later: run() first marks the slot invalid (generation 0), then waits until
// no worker reads it, then rewrites it and publishes the new generation. A
// worker first registers as a reader, then checks the generation. Both use
// sequentially consistent operations, so either the worker registered
// before run() looked (run() waits for it) or it sees generation 0 or a
// newer one and leaves without touching the fields.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/ThreadPool.h"

#include "runtime/cpu/HostCpu.h"

#include <algorithm>
#include <cassert>
#include <chrono>

using namespace lathe::rt;

namespace {

/// How long a thread polls before it sleeps: long enough to cover the gap
/// between two steps of a function, short enough not to burn a core when
/// the pool is idle. Measured in time, since a pause instruction lasts
/// anywhere from a few cycles to over a hundred depending on the CPU.
constexpr std::chrono::microseconds spinTime(200);

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// Polls `ready` for spinTime; whether it became true.
template <typename F> bool spinUntil(F &&ready) {
  auto deadline = std::chrono::steady_clock::now() + spinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready())
        return true;
      relax();
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return ready();
  }
}

} // namespace

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0)
    threads = hostPhysicalCores();
  workers.reserve(threads - 1);
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping.store(true);
  }
  wake.notify_all();
  for (std::thread &worker : workers)
    worker.join();
}

void ThreadPool::run(const int64_t grid[3], Task fn, void *ctx) {
  assert(grid[0] >= 0 && grid[1] >= 0 && grid[2] >= 0);
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
    return;
  const int64_t count = grid[0] * grid[1] * grid[2];

  // One workgroup, or no workers: waking anyone costs more than it saves.
  if (workers.empty() || count == 1) {
    for (int64_t z = 0; z < grid[2]; ++z)
      for (int64_t y = 0; y < grid[1]; ++y)
        for (int64_t x = 0; x < grid[0]; ++x)
          fn(ctx, x, y, z);
    return;
  }

  std::lock_guard<std::mutex> serialize(runMutex);
  const uint64_t generation = ++launches;
  Job &job = jobs[generation & 1];
  job.generation.store(0);
  // Readers of the launch before last find nothing left to do: they leave
  // at once.
  while (job.readers.load() != 0)
    relax();
  job.task = fn;
  job.context = ctx;
  job.gridX = grid[0];
  job.gridY = grid[1];
  job.total = count;
  job.chunk = std::max<int64_t>(1, count / (int64_t(size()) * 8));
  job.next.store(0, std::memory_order_relaxed);
  job.done.store(0, std::memory_order_relaxed);
  job.generation.store(generation);
  {
    std::lock_guard<std::mutex> lock(mutex);
    latest.store(generation, std::memory_order_release);
  }
  wake.notify_all();

  work(job);

  auto complete = [&] {
    return job.done.load(std::memory_order_acquire) == job.total;
  };
  if (spinUntil(complete))
    return;
  std::unique_lock<std::mutex> lock(mutex);
  finished.wait(lock, complete);
}

void ThreadPool::work(Job &job) {
  for (;;) {
    int64_t begin = job.next.fetch_add(job.chunk, std::memory_order_relaxed);
    if (begin >= job.total)
      return;
    int64_t end = std::min(begin + job.chunk, job.total);
    int64_t x = begin % job.gridX, rest = begin / job.gridX;
    int64_t y = rest % job.gridY, z = rest / job.gridY;
    for (int64_t i = begin; i < end; ++i) {
      job.task(job.context, x, y, z);
      if (++x == job.gridX) {
        x = 0;
        if (++y == job.gridY) {
          y = 0;
          ++z;
        }
      }
    }
    // Release: the workgroups' writes happen before run() sees them done.
    if (job.done.fetch_add(end - begin, std::memory_order_acq_rel) +
            (end - begin) ==
        job.total) {
      std::lock_guard<std::mutex> lock(mutex);
      finished.notify_all();
    }
  }
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    auto changed = [&] {
      return stopping.load(std::memory_order_relaxed) ||
             latest.load(std::memory_order_acquire) != seen;
    };
    if (!spinUntil(changed)) {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, changed);
    }
    if (stopping.load())
      return;
    // Only the newest launch can have work left.
    seen = latest.load(std::memory_order_acquire);
    Job &job = jobs[seen & 1];
    job.readers.fetch_add(1);
    if (job.generation.load() == seen)
      work(job);
    job.readers.fetch_sub(1);
  }
}

//===- ThreadPool.h - runs a launch's grid on the CPU's cores --*- C++ -*-===//
//
// A CPU kernel is one workgroup of a launch. run() calls it once for every
// workgroup id (x, y, z) of the grid, spread over the pool's threads, and
// returns when all are done, so that each step of a function sees the
// previous one complete. The calling thread works too: a pool of N threads
// has N - 1 workers. Workgroups are claimed in chunks from a shared
// counter, so uneven workgroups balance out.
//
// run() waits for the workgroups, not for the workers: a worker that wakes
// late (asleep, or its core taken by another process) finds the work done
// and skips it, instead of holding up every step of a function. Workers
// spin for a short while after a launch (a function's steps come back to
// back), then sleep on a condition variable, so an idle pool costs nothing.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_CPU_THREADPOOL_H
#define LATHE_RUNTIME_CPU_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace lathe::rt {

class ThreadPool {
public:
  using Task = void (*)(void *context, int64_t x, int64_t y, int64_t z);

  /// A pool of `threads` threads in all, the caller of run() included; 0
  /// means hostPhysicalCores().
  explicit ThreadPool(unsigned threads = 0);
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;
  ~ThreadPool();

  /// Threads that run workgroups, the caller included.
  unsigned size() const { return unsigned(workers.size()) + 1; }

  /// Calls task(context, x, y, z) exactly once for each x < grid[0],
  /// y < grid[1], z < grid[2], and returns when every call has returned
  /// (its writes visible to the caller). A zero count runs nothing. The
  /// counts must be >= 0 with a product of at most 2^62. Calls from
  /// several threads are serialized; a task must not call run() on the
  /// same pool.
  void run(const int64_t grid[3], Task task, void *context);

  /// run() with any callable f(x, y, z).
  template <typename F> void run(const int64_t grid[3], F &&f) {
    run(
        grid,
        [](void *context, int64_t x, int64_t y, int64_t z) {
          (*static_cast<std::remove_reference_t<F> *>(context))(x, y, z);
        },
        &f);
  }

private:
  /// One launch. Two slots alternate, so that a worker still looking at
  /// the previous launch never sees this one's fields change under it.
  struct Job {
    /// The launch this slot holds; 0 while run() rewrites it.
    std::atomic<uint64_t> generation{0};
    /// Workers reading this slot; run() waits for 0 before rewriting it.
    std::atomic<unsigned> readers{0};
    Task task = nullptr;
    void *context = nullptr;
    int64_t gridX = 0, gridY = 0, total = 0, chunk = 1;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
  };

  void workerLoop();
  /// Claims and runs chunks of `job` until none are left.
  void work(Job &job);

  std::vector<std::thread> workers;
  std::mutex runMutex;
  uint64_t launches = 0;
  Job jobs[2];

  /// The newest launch; workers wait for it to change.
  std::atomic<uint64_t> latest{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable wake, finished;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_CPU_THREADPOOL_H

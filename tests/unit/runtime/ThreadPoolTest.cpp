//===- ThreadPoolTest.cpp - every workgroup of a grid, exactly once -------===//

#include "runtime/cpu/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace lathe::rt;

namespace {

/// Runs `grid` on `pool` and checks each workgroup ran exactly once.
void expectEachOnce(ThreadPool &pool, int64_t gx, int64_t gy, int64_t gz) {
  std::vector<std::atomic<int>> runs(size_t(gx * gy * gz));
  for (auto &r : runs)
    r = 0;
  int64_t grid[] = {gx, gy, gz};
  pool.run(grid, [&](int64_t x, int64_t y, int64_t z) {
    ASSERT_TRUE(x >= 0 && x < gx && y >= 0 && y < gy && z >= 0 && z < gz);
    runs[size_t(x + gx * (y + gy * z))].fetch_add(1);
  });
  for (size_t i = 0; i < runs.size(); ++i)
    ASSERT_EQ(runs[i].load(), 1) << "workgroup " << i << " of [" << gx << ", "
                                 << gy << ", " << gz << "]";
}

TEST(ThreadPool, RunsEveryWorkgroupExactlyOnce) {
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    expectEachOnce(pool, 1, 1, 1);
    expectEachOnce(pool, 7, 1, 1);
    expectEachOnce(pool, 1000, 1, 1);
    expectEachOnce(pool, 13, 17, 1);
    expectEachOnce(pool, 5, 3, 11);
    expectEachOnce(pool, 1, 1, 300);
  }
}

TEST(ThreadPool, AZeroCountRunsNothing) {
  ThreadPool pool(4);
  std::atomic<int> runs{0};
  for (auto grid : {std::vector<int64_t>{0, 5, 5}, {5, 0, 5}, {5, 5, 0}}) {
    pool.run(grid.data(), [&](int64_t, int64_t, int64_t) { ++runs; });
  }
  EXPECT_EQ(runs.load(), 0);
}

TEST(ThreadPool, EachRunFinishesBeforeItReturns) {
  // Many short launches back to back, as a function's steps come: step s
  // reads what every workgroup of step s - 1 wrote.
  ThreadPool pool(4);
  std::vector<std::atomic<int64_t>> values(64);
  for (auto &v : values)
    v = 0;
  std::atomic<int> stale{0};
  int64_t grid[] = {64, 1, 1};
  for (int64_t step = 0; step < 500; ++step)
    pool.run(grid, [&](int64_t x, int64_t, int64_t) {
      if (values[size_t((x + 1) % 64)].load() < step)
        ++stale;
      values[size_t(x)] = step + 1;
    });
  EXPECT_EQ(stale.load(), 0);
  for (auto &v : values)
    EXPECT_EQ(v.load(), 500);
}

TEST(ThreadPool, ManyTinyLaunchesWithMoreThreadsThanCores) {
  // Launches of a few workgroups back to back, with workers that are often
  // late (more threads than cores): each launch must still run each of its
  // workgroups once, whichever thread gets to it, and late workers must
  // never run a workgroup of a launch that is over.
  ThreadPool pool(6);
  std::vector<std::atomic<int>> runs(5);
  std::atomic<int> wrong{0};
  for (int launch = 0; launch < 20000; ++launch) {
    int64_t count = 2 + launch % 4;
    for (int64_t i = 0; i < count; ++i)
      runs[size_t(i)] = 0;
    int64_t grid[] = {count, 1, 1};
    pool.run(grid, [&](int64_t x, int64_t, int64_t) {
      if (runs[size_t(x)].fetch_add(1) != 0)
        ++wrong;
    });
    for (int64_t i = 0; i < count; ++i)
      if (runs[size_t(i)].load() != 1)
        ++wrong;
  }
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ThreadPool, UsesSeveralThreads) {
  ThreadPool pool(4);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  int64_t grid[] = {256, 1, 1};
  // Workgroups long enough that one thread cannot take them all before the
  // workers wake.
  pool.run(grid, [&](int64_t, int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_GT(seen.size(), 1u);
  EXPECT_LE(seen.size(), 4u);
}

TEST(ThreadPool, CallsFromSeveralThreadsAreSerialized) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    int64_t grid[] = {100, 1, 1};
    for (int i = 0; i < 50; ++i)
      pool.run(grid, [&](int64_t, int64_t, int64_t) { ++total; });
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 50 * 100);
}

TEST(ThreadPool, DefaultsToTheCores) {
  ThreadPool pool;
  EXPECT_GE(pool.size(), 1u);
  expectEachOnce(pool, 33, 2, 1);
}

} // namespace

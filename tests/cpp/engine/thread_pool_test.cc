#include "engine/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace arrowembed::engine {
namespace {

TEST(ThreadPool, RunsEveryIndexOnce) {
  for (size_t threads : {1u, 2u, 4u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (size_t count : {0u, 1u, 3u, 1000u}) {
      std::vector<std::atomic<int>> hits(count);
      for (int round = 0; round < 20; ++round) pool.parallel_for(count, [&](size_t i) { hits[i]++; });
      for (auto& h : hits) ASSERT_EQ(h.load(), 20);
    }
  }
}

TEST(ThreadPool, RethrowsAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100, [](size_t i) {
    if (i == 57) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  std::atomic<size_t> sum{0};
  pool.parallel_for(10, [&](size_t i) { sum += i; });
  EXPECT_EQ(sum.load(), 45u);
}

// Loops separated by pauses longer than the workers' spin, so that each
// starts with its workers asleep (and some joining late, or after the
// caller has closed the loop): still every index exactly once.
TEST(ThreadPool, LoopsAfterWorkersSleptRunEveryIndexOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(64);
  for (int round = 0; round < 30; ++round) {
    if (round % 3 == 0) pool.wake();  // a hint, before some of the loops
    pool.parallel_for(hits.size(), [&](size_t i) { hits[i]++; });
    std::this_thread::sleep_for(std::chrono::microseconds(round % 2 ? 3000 : 50));
  }
  for (auto& h : hits) ASSERT_EQ(h.load(), 30);
}

// The workers do take part: a loop of slow tasks after they slept is shared.
TEST(ThreadPool, SleepingWorkersJoinALongLoop) {
  ThreadPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::mutex mutex;
  std::set<std::thread::id> threads;
  pool.parallel_for(200, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(threads.size(), 2u);
}

TEST(ThreadPool, WakeIsHarmlessAnyTime) {
  ThreadPool single(1);
  single.wake();
  ThreadPool pool(2);
  for (int i = 0; i < 100; ++i) pool.wake();
  std::atomic<size_t> sum{0};
  pool.parallel_for(10, [&](size_t i) { sum += i; });
  pool.wake();
  EXPECT_EQ(sum.load(), 45u);
}

}  // namespace
}  // namespace arrowembed::engine

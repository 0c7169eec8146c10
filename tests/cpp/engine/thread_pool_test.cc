#include "engine/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
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

}  // namespace
}  // namespace arrowembed::engine

#include "service/embedding_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace arrowembed::service {
namespace {

TEST(EmbeddingCache, HitsMissesAndLeastRecentlyUsedEviction) {
  EmbeddingCache cache(2);
  const EmbeddingCache::Model m{1, 3};
  const float a[] = {1, 2, 3}, b[] = {4, 5, 6}, c[] = {7, 8, 9};
  float out[3];
  size_t tokens = 0;
  EXPECT_FALSE(cache.lookup(m, "a", false, out, &tokens));
  cache.insert(m, "a", false, a, 5);
  cache.insert(m, "b", false, b, 6);
  ASSERT_TRUE(cache.lookup(m, "a", false, out, &tokens));  // "a" is now the most recent
  EXPECT_EQ(tokens, 5u);
  EXPECT_EQ(std::vector<float>(out, out + 3), std::vector<float>(a, a + 3));
  cache.insert(m, "c", false, c, 7);  // evicts "b", the least recently used
  EXPECT_FALSE(cache.lookup(m, "b", false, out, &tokens));
  EXPECT_TRUE(cache.lookup(m, "a", false, out, &tokens));
  ASSERT_TRUE(cache.lookup(m, "c", false, out, &tokens));
  EXPECT_EQ(out[2], 9);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_GT(cache.bytes(), 2 * 3 * sizeof(float));
}

TEST(EmbeddingCache, TruncationIsPartOfTheKey) {
  EmbeddingCache cache(4);
  const EmbeddingCache::Model m{1, 1};
  const float x = 1, y = 2;
  float out;
  size_t tokens;
  cache.insert(m, "text", false, &x, 3);
  cache.insert(m, "text", true, &y, 2);
  ASSERT_TRUE(cache.lookup(m, "text", true, &out, &tokens));
  EXPECT_EQ(out, 2);
  ASSERT_TRUE(cache.lookup(m, "text", false, &out, &tokens));
  EXPECT_EQ(out, 1);
  // A text that starts like the option byte does not collide.
  EXPECT_FALSE(cache.lookup(m, "Ttext", false, &out, &tokens));
}

TEST(EmbeddingCache, ModelsHaveTheirOwnEntriesAndCanBeDropped) {
  EmbeddingCache cache(8);
  const EmbeddingCache::Model a{1, 2}, b{2, 3};
  const float va[] = {1, 2}, vb[] = {3, 4, 5};
  float out[3] = {0, 0, 0};
  size_t tokens;
  cache.insert(a, "text", false, va, 1);
  cache.insert(b, "text", false, vb, 2);
  ASSERT_TRUE(cache.lookup(a, "text", false, out, &tokens));
  EXPECT_EQ(out[1], 2);
  EXPECT_EQ(tokens, 1u);
  ASSERT_TRUE(cache.lookup(b, "text", false, out, &tokens));
  EXPECT_EQ(out[2], 5);
  const size_t both = cache.bytes();
  cache.erase_model(1);
  EXPECT_FALSE(cache.lookup(a, "text", false, out, &tokens));
  EXPECT_TRUE(cache.lookup(b, "text", false, out, &tokens));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_LT(cache.bytes(), both);
}

TEST(EmbeddingCache, CapacityZeroDisables) {
  EmbeddingCache cache(0);
  const EmbeddingCache::Model m{1, 1};
  const float x = 1;
  float out;
  size_t tokens;
  cache.insert(m, "a", false, &x, 1);
  EXPECT_FALSE(cache.lookup(m, "a", false, &out, &tokens));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(EmbeddingCache, ConcurrentUseKeepsEntriesIntact) {
  EmbeddingCache cache(64);
  const EmbeddingCache::Model m{1, 16};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, m, t] {
      std::vector<float> v(16), out(16);
      for (int i = 0; i < 2000; ++i) {
        const int key = (i * 7 + t) % 100;
        std::fill(v.begin(), v.end(), static_cast<float>(key));
        size_t tokens;
        if (cache.lookup(m, std::to_string(key), false, out.data(), &tokens)) {
          // every component of a hit belongs to that key's vector
          for (const float f : out) ASSERT_EQ(f, static_cast<float>(key));
          ASSERT_EQ(tokens, static_cast<size_t>(key));
        } else {
          cache.insert(m, std::to_string(key), false, v.data(), static_cast<size_t>(key));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.size(), 64u);
}

}  // namespace
}  // namespace arrowembed::service

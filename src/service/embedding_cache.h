#pragma once
// LRU cache of raw (pooled, not yet normalised) embeddings, keyed by the
// text and the options that change the raw vector (truncation). Normalising
// and Matryoshka truncation happen per request after the lookup, so one
// entry serves every combination of those options. Thread-safe.
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace arrowembed::server {

class EmbeddingCache {
 public:
  // capacity 0 disables the cache: lookups miss, inserts are dropped.
  EmbeddingCache(size_t capacity, size_t dimension);

  // Copies the cached vector to out (dimension floats) and its token count to
  // *tokens; false on a miss.
  bool lookup(std::string_view text, bool truncate, float* out, size_t* tokens);
  void insert(std::string_view text, bool truncate, const float* vector, size_t tokens);

  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t bytes() const;  // approximate memory held

 private:
  struct Entry {
    std::string key;
    std::vector<float> vector;
    size_t tokens;
  };
  static std::string make_key(std::string_view text, bool truncate);

  const size_t capacity_;
  const size_t dimension_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views into Entry::key
  size_t key_bytes_ = 0;
};

}  // namespace arrowembed::server

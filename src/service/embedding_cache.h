#pragma once
// LRU cache of raw (pooled, not yet normalised) embeddings of every model,
// keyed by the model (the instance loaded, so a model swapped in under the
// same name never sees its predecessor's vectors), the options that change
// the raw vector (truncation) and the text. Normalising and Matryoshka
// truncation happen per request after the lookup, so one entry serves every
// combination of those options. Thread-safe.
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace arrowembed::service {

class EmbeddingCache {
 public:
  // capacity 0 disables the cache: lookups miss, inserts are dropped.
  explicit EmbeddingCache(size_t capacity);

  // A model's entries: its id (unique per loaded instance) and dimension.
  struct Model {
    uint64_t id;
    size_t dimension;
  };

  // Copies the cached vector to out (dimension floats) and its token count to
  // *tokens; false on a miss.
  bool lookup(Model model, std::string_view text, bool truncate, float* out, size_t* tokens);
  void insert(Model model, std::string_view text, bool truncate, const float* vector, size_t tokens);
  // Drops every entry of a model (it was unloaded or replaced).
  void erase_model(uint64_t model_id);

  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t bytes() const;  // approximate memory held

 private:
  struct Entry {
    std::string key;
    uint64_t model_id;
    std::vector<float> vector;
    size_t tokens;
  };
  static std::string make_key(uint64_t model_id, std::string_view text, bool truncate);
  void erase(std::list<Entry>::iterator it);  // needs mutex_

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views into Entry::key
  size_t key_bytes_ = 0;
  size_t vector_bytes_ = 0;
};

}  // namespace arrowembed::service

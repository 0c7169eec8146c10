#include "service/embedding_cache.h"

#include <algorithm>
#include <cstring>

namespace arrowembed::service {

EmbeddingCache::EmbeddingCache(size_t capacity) : capacity_(capacity) {}

std::string EmbeddingCache::make_key(uint64_t model_id, std::string_view text, bool truncate) {
  // Fixed-size fields ahead of the text: no separator can collide with text.
  std::string key(sizeof model_id + 1 + text.size(), '\0');
  std::memcpy(key.data(), &model_id, sizeof model_id);
  key[sizeof model_id] = truncate ? 'T' : 'F';
  std::memcpy(key.data() + sizeof model_id + 1, text.data(), text.size());
  return key;
}

bool EmbeddingCache::lookup(Model model, std::string_view text, bool truncate, float* out, size_t* tokens) {
  if (capacity_ == 0) return false;
  const std::string key = make_key(model.id, text, truncate);
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  entries_.splice(entries_.begin(), entries_, it->second);
  std::copy(it->second->vector.begin(), it->second->vector.end(), out);
  *tokens = it->second->tokens;
  return true;
}

void EmbeddingCache::erase(std::list<Entry>::iterator it) {
  key_bytes_ -= it->key.size();
  vector_bytes_ -= it->vector.size() * sizeof(float);
  index_.erase(it->key);
  entries_.erase(it);
}

void EmbeddingCache::insert(Model model, std::string_view text, bool truncate, const float* vector, size_t tokens) {
  if (capacity_ == 0) return;
  std::string key = make_key(model.id, text, truncate);
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() == capacity_) erase(std::prev(entries_.end()));
  key_bytes_ += key.size();
  vector_bytes_ += model.dimension * sizeof(float);
  entries_.push_front(Entry{std::move(key), model.id, std::vector<float>(vector, vector + model.dimension), tokens});
  index_.emplace(entries_.front().key, entries_.begin());
}

void EmbeddingCache::erase_model(uint64_t model_id) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto next = std::next(it);
    if (it->model_id == model_id) erase(it);
    it = next;
  }
}

size_t EmbeddingCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

size_t EmbeddingCache::bytes() const {
  std::lock_guard lock(mutex_);
  return key_bytes_ + vector_bytes_ + entries_.size() * (sizeof(Entry) + 64);
}

}  // namespace arrowembed::service

#include "server/embedding_cache.h"

#include <algorithm>

namespace arrowembed::server {

EmbeddingCache::EmbeddingCache(size_t capacity, size_t dimension) : capacity_(capacity), dimension_(dimension) {}

std::string EmbeddingCache::make_key(std::string_view text, bool truncate) {
  // One byte of options ahead of the text: no separator can collide with text.
  std::string key;
  key.reserve(text.size() + 1);
  key += truncate ? 'T' : 'F';
  key += text;
  return key;
}

bool EmbeddingCache::lookup(std::string_view text, bool truncate, float* out, size_t* tokens) {
  if (capacity_ == 0) return false;
  const std::string key = make_key(text, truncate);
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  entries_.splice(entries_.begin(), entries_, it->second);
  std::copy(it->second->vector.begin(), it->second->vector.end(), out);
  *tokens = it->second->tokens;
  return true;
}

void EmbeddingCache::insert(std::string_view text, bool truncate, const float* vector, size_t tokens) {
  if (capacity_ == 0) return;
  std::string key = make_key(text, truncate);
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() == capacity_) {
    key_bytes_ -= entries_.back().key.size();
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  key_bytes_ += key.size();
  entries_.push_front(Entry{std::move(key), std::vector<float>(vector, vector + dimension_), tokens});
  index_.emplace(entries_.front().key, entries_.begin());
}

size_t EmbeddingCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

size_t EmbeddingCache::bytes() const {
  std::lock_guard lock(mutex_);
  return key_bytes_ + entries_.size() * (sizeof(Entry) + dimension_ * sizeof(float) + 64);
}

}  // namespace arrowembed::server

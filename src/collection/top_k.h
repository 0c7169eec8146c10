#pragma once
// The best k (score, ordinal) pairs seen so far: a min-heap whose root is
// the worst kept, so most candidates are rejected by one comparison. Ties
// prefer the lower ordinal (the earlier row), so results are deterministic
// whatever the split over threads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace arrowembed::collection {

struct Scored {
  float score;
  uint64_t ordinal;
};

// a ranks before b.
inline bool better(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.ordinal < b.ordinal);
}

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  // Below this nothing can enter (once full).
  float threshold() const { return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.front().score; }

  void push(Scored s) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back(s);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(s, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = s;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  void merge(const TopK& other) {
    for (const Scored& s : other.heap_) push(s);
  }

  // Best first.
  std::vector<Scored> sorted() const {
    std::vector<Scored> out = heap_;
    std::sort(out.begin(), out.end(), better);
    return out;
  }

 private:
  size_t k_;
  std::vector<Scored> heap_;  // std heap ordered by `better`: front() is the worst kept
};

}  // namespace arrowembed::collection

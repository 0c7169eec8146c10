#include "engine/batch_plan.h"

#include <algorithm>
#include <numeric>

namespace arrowembed::engine {

std::vector<std::vector<size_t>> plan_batches(std::span<const size_t> lengths, size_t max_tokens) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> groups;
  size_t tokens = 0;
  for (size_t i : order) {
    if (groups.empty() || tokens + lengths[i] > max_tokens) {
      groups.emplace_back();
      tokens = 0;
    }
    groups.back().push_back(i);
    tokens += lengths[i];
  }
  return groups;
}

}  // namespace arrowembed::engine

#include "engine/batch_plan.h"

#include <algorithm>
#include <numeric>

namespace arrowembed::engine {

std::vector<std::vector<size_t>> plan_batches(std::span<const size_t> lengths, size_t max_tokens) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  // As many passes as the budget needs, each about the same size: a batch
  // just over the budget runs as two halves, not a full pass and a sliver
  // that leaves the cores little to share.
  const size_t total = std::accumulate(lengths.begin(), lengths.end(), size_t{0});
  const size_t passes = std::max<size_t>(1, (total + max_tokens - 1) / max_tokens);
  const size_t target = (total + passes - 1) / passes;
  std::vector<std::vector<size_t>> groups;
  size_t tokens = 0;
  for (size_t i : order) {
    if (groups.empty() || tokens >= target || tokens + lengths[i] > max_tokens) {
      groups.emplace_back();
      tokens = 0;
    }
    groups.back().push_back(i);
    tokens += lengths[i];
  }
  return groups;
}

}  // namespace arrowembed::engine

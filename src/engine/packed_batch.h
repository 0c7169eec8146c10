#pragma once
// A batch of sequences packed back to back with no padding: sequence s
// owns token rows [starts[s], starts[s+1]) of every activation matrix.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace arrowembed::engine {

struct PackedBatch {
  std::vector<int32_t> ids;     // all tokens, sequence after sequence
  std::vector<size_t> starts;   // size num_sequences() + 1

  size_t num_sequences() const { return starts.empty() ? 0 : starts.size() - 1; }
  size_t num_tokens() const { return ids.size(); }
  size_t length(size_t s) const { return starts[s + 1] - starts[s]; }
};

}  // namespace arrowembed::engine

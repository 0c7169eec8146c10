#pragma once
// Exact top-k by inner product over the mapped segments: the rows are split
// into tasks on the engine's threads, every task keeps a TopK per query and
// scores all the queries of a batch against each block of rows (one pass
// over memory per batch), then the tasks' heaps are merged.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arrowembed/collection/collection.h"
#include "collection/segment.h"
#include "collection/top_k.h"

namespace arrowembed::engine {
class ThreadPool;
}

namespace arrowembed::collection {

struct SegmentView {
  const Segment* segment;
  uint64_t base;          // ordinal of its first row
  const uint8_t* live;    // 1 per live row, 0 for a deleted one
};

// One TopK per query (best first after sorted()). Filters are equalities on
// "id", "text" or a metadata column, all of which must hold; a segment that
// lacks a filtered column has no matching row. `threads` may be null (runs
// on the caller's thread).
std::vector<TopK> exact_search(const std::vector<SegmentView>& segments, size_t dimension, DType dtype,
                               const float* queries, size_t num_queries, size_t k,
                               const std::vector<Filter>& filters, engine::ThreadPool* threads);

}  // namespace arrowembed::collection

#include "collection/exact_search.h"

#include <algorithm>
#include <mutex>

#include "collection/vector_kernels.h"
#include "format/half.h"
#include "engine/thread_pool.h"

namespace arrowembed::collection {

namespace {

struct Task {
  size_t segment;
  size_t begin, end;  // rows
};

// Rows per task: enough tasks for every thread to take several (the last
// ones balance the load), each large enough that the heaps' merge is noise.
size_t task_rows(size_t rows, size_t threads) {
  const size_t target = rows / (threads * 8) + 1;
  const size_t rounded = (target + kBlockRows - 1) / kBlockRows * kBlockRows;
  return std::max<size_t>(rounded, 4096);
}

}  // namespace

std::vector<TopK> exact_search(const std::vector<SegmentView>& segments, size_t dim, DType dtype,
                               const float* queries, size_t num_queries, size_t k,
                               const std::vector<Filter>& filters, engine::ThreadPool* threads) {
  // Resolve the filters per segment: the columns to compare, or skip it.
  std::vector<std::vector<std::pair<const arrow::StringArray*, std::string_view>>> checks(segments.size());
  std::vector<Task> tasks;
  size_t total = 0;
  for (const auto& s : segments) total += s.segment->rows();
  const size_t step = task_rows(total, threads ? threads->size() : 1);
  for (size_t i = 0; i < segments.size(); ++i) {
    bool possible = true;
    for (const Filter& f : filters) {
      const arrow::StringArray* column = segments[i].segment->column(f.column);
      if (!column) possible = false;
      checks[i].emplace_back(column, f.value);
    }
    if (!possible) continue;
    const size_t rows = segments[i].segment->rows();
    for (size_t b = 0; b < rows; b += step) tasks.push_back({i, b, std::min(rows, b + step)});
  }

  std::vector<std::vector<TopK>> results(tasks.size(), std::vector<TopK>(num_queries, TopK(k)));
  auto run = [&](size_t t) {
    const Task& task = tasks[t];
    const SegmentView& view = segments[task.segment];
    const auto& check = checks[task.segment];
    std::vector<TopK>& heaps = results[t];
    std::vector<float> widened(dtype == DType::F16 ? kBlockRows * dim : 0);
    std::vector<float> scores(num_queries * kBlockRows);
    uint8_t ok[kBlockRows];
    for (size_t b = task.begin; b < task.end; b += kBlockRows) {
      const size_t rows = std::min(kBlockRows, task.end - b);
      bool any = false;
      for (size_t r = 0; r < rows; ++r) {
        bool keep = view.live[b + r] != 0;
        for (size_t c = 0; keep && c < check.size(); ++c)
          keep = check[c].first->GetView(static_cast<int64_t>(b + r)) == check[c].second;
        ok[r] = keep;
        any |= keep;
      }
      if (!any) continue;
      const float* block;
      if (dtype == DType::F16) {
        half::f16_to_f32(static_cast<const uint16_t*>(view.segment->embeddings()) + b * dim, widened.data(), rows * dim);
        block = widened.data();
      } else {
        block = static_cast<const float*>(view.segment->embeddings()) + b * dim;
      }
      score_block(block, rows, dim, queries, num_queries, scores.data());
      for (size_t q = 0; q < num_queries; ++q) {
        TopK& heap = heaps[q];
        float threshold = heap.threshold();
        const float* s = scores.data() + q * rows;
        for (size_t r = 0; r < rows; ++r)
          if (s[r] >= threshold && ok[r]) {
            heap.push({s[r], view.base + b + r});
            threshold = heap.threshold();
          }
      }
    }
  };
  if (threads && tasks.size() > 1)
    threads->parallel_for(tasks.size(), run);
  else
    for (size_t t = 0; t < tasks.size(); ++t) run(t);

  std::vector<TopK> merged(num_queries, TopK(k));
  for (const auto& task_heaps : results)
    for (size_t q = 0; q < num_queries; ++q) merged[q].merge(task_heaps[q]);
  return merged;
}

}  // namespace arrowembed::collection

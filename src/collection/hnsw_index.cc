#include "collection/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "arrowembed/error.h"
#include "collection/durable_io.h"

namespace arrowembed::collection {

struct HnswIndex::Impl {
  explicit Impl(size_t dimension) : space(dimension), dimension(dimension) {}
  hnswlib::InnerProductSpace space;  // must outlive the graph
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
  size_t dimension;
  HnswParams params;
};

HnswIndex::HnswIndex(size_t dimension, size_t capacity, const HnswParams& params)
    : impl_(std::make_unique<Impl>(dimension)) {
  impl_->params = params;
  impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&impl_->space, std::max<size_t>(capacity, 1),
                                                                    params.m, params.ef_construction);
  impl_->graph->setEf(params.ef_search);
}

HnswIndex::HnswIndex(const std::filesystem::path& path, size_t dimension, size_t elements, const HnswParams& params)
    : impl_(std::make_unique<Impl>(dimension)) {
  impl_->params = params;
  try {
    impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&impl_->space, path.string());
  } catch (const std::exception& e) {
    throw Error("damaged index " + path.string() + ": " + e.what());
  }
  auto& g = *impl_->graph;
  if (g.data_size_ != dimension * sizeof(float))
    throw Error("damaged index " + path.string() + ": vectors of " + std::to_string(g.data_size_ / sizeof(float)) +
                " dimensions, the collection has " + std::to_string(dimension));
  if (g.cur_element_count != elements)
    throw Error("damaged index " + path.string() + ": " + std::to_string(g.cur_element_count) +
                " vectors, the manifest says " + std::to_string(elements));
  g.setEf(params.ef_search);
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::add(const float* vectors, size_t rows, uint64_t first_label, size_t threads) {
  auto& g = *impl_->graph;
  if (g.cur_element_count + rows > g.max_elements_)
    g.resizeIndex(std::max(g.cur_element_count + rows, g.max_elements_ + g.max_elements_ / 2));
  const size_t dim = impl_->dimension;
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      for (size_t i; (i = next.fetch_add(1)) < rows;) g.addPoint(vectors + i * dim, first_label + i);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      error = std::current_exception();
      next = rows;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(threads, rows); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

void HnswIndex::mark_deleted(uint64_t label) {
  auto& g = *impl_->graph;
  const auto found = g.label_lookup_.find(label);
  if (found == g.label_lookup_.end() || g.isMarkedDeleted(found->second)) return;
  g.markDelete(label);
}

size_t HnswIndex::elements() const { return impl_->graph->cur_element_count; }

void HnswIndex::save(const std::filesystem::path& path) const {
  impl_->graph->saveIndex(path.string());
  fsync_file(path);  // saveIndex writes through an ofstream and never syncs
}

std::vector<std::pair<float, uint64_t>> HnswIndex::search(const float* query, size_t k) const {
  auto found = impl_->graph->searchKnn(query, k);
  std::vector<std::pair<float, uint64_t>> out(found.size());
  // The queue pops the farthest first; distance is 1 - inner product.
  for (size_t i = out.size(); i-- > 0; found.pop()) out[i] = {1.0f - found.top().first, found.top().second};
  return out;
}

}  // namespace arrowembed::collection

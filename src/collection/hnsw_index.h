#pragma once
// The approximate index: hnswlib's HNSW graph over inner product (Debian's
// header-only hnswlib; why this library: docs/architecture.md). Labels are
// the collection's row ordinals. hnswlib is kept behind this class so no
// other file includes it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

namespace arrowembed::collection {

struct HnswParams {
  int m = 16;                // graph degree (2*M on the bottom layer)
  int ef_construction = 200;
  int ef_search = 128;       // candidates kept while searching (at least k)
};

class HnswIndex {
 public:
  HnswIndex(size_t dimension, size_t capacity, const HnswParams& params);
  // Reads an index file saved by save(); the caller has verified its checksum.
  // Throws Error naming the file if it does not hold `elements` vectors of `dimension`.
  HnswIndex(const std::filesystem::path& path, size_t dimension, size_t elements, const HnswParams& params);
  ~HnswIndex();

  // Inserts rows x dimension vectors with labels first_label, first_label+1, ...
  // on `threads` threads (hnswlib's insertion is thread-safe).
  void add(const float* vectors, size_t rows, uint64_t first_label, size_t threads);
  void mark_deleted(uint64_t label);  // no-op if already marked
  size_t elements() const;
  // Writes the index to `path` and fsyncs it.
  void save(const std::filesystem::path& path) const;
  // Best `k` (inner product, label), best first, skipping marked labels.
  std::vector<std::pair<float, uint64_t>> search(const float* query, size_t k) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arrowembed::collection

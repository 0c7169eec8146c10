#pragma once
// What the routes ask of the model, independent of HTTP: texts in, rows of
// floats out, with the cache in front of the batcher and the per-request
// options (truncate, normalize, dimensions) applied. Thread-safe.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "arrowembed/engine/embedder.h"
#include "server/batcher.h"
#include "server/embedding_cache.h"
#include "server/service_metrics.h"

namespace arrowembed::server {

// The request field the i-th text came from, for error messages ("inputs[3]").
using FieldNamer = std::function<std::string(size_t)>;

// "name" for a single string, "name[i]" for a list.
FieldNamer list_field(std::string name, bool single);

struct ServiceOptions {
  BatcherOptions batcher;
  size_t cache_entries = 16384;
};

struct EmbedOutput {
  std::vector<float> values;  // rows x dimension, row-major
  size_t rows = 0;
  size_t dimension = 0;
  size_t tokens = 0;  // after truncation, with [CLS] and [SEP]
  size_t cache_hits = 0;
  BatchTiming timing;
};

class EmbeddingService {
 public:
  EmbeddingService(Embedder embedder, const ServiceOptions& options, ServiceMetrics& metrics);

  // Throws ApiError 422 naming field_of(i) (the request field texts[i] came
  // from) when an input is longer than the model takes and truncate is
  // false; 429 when the queue is full.
  EmbedOutput embed(const std::vector<std::string>& texts, bool truncate, bool normalize,
                    std::optional<size_t> dimensions, const FieldNamer& field_of) const;

  // Token ids of each text (no length check; cut at max_seq_length if truncate).
  std::vector<Encoding> tokenize(const std::vector<std::string>& texts, bool truncate) const;

  const Embedder& embedder() const { return embedder_; }
  const ModelConfig& config() const { return embedder_.config(); }
  size_t cache_entries() const { return cache_.size(); }
  size_t cache_capacity() const { return cache_.capacity(); }
  void stop() { batcher_.stop(); }

 private:
  Embedder embedder_;
  ServiceMetrics& metrics_;
  mutable EmbeddingCache cache_;
  mutable Batcher batcher_;
};

// Keeps the first `dimensions` floats of each row and L2-normalises them if
// asked (Matryoshka truncation), compacting rows in place.
void finish_rows(std::vector<float>& values, size_t rows, size_t dimension, size_t keep, bool normalize);

}  // namespace arrowembed::server

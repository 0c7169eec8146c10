#pragma once
// A collection: documents with their embeddings, stored as Arrow, searched
// by inner product (exact, or through an HNSW index for large collections).
//
// On disk, one directory:
//   manifest.json            the committed state: segments, model fingerprint,
//                            dimension, dtype, deleted ids, index file
//   seg-<n>.arrow            Arrow IPC files: id (string), text (string),
//                            metadata columns (string), embedding
//                            (fixed_size_list<float32 | float16>[dimension])
//   index-<n>.hnsw           the approximate index, when built
// pyarrow, polars and DuckDB read the segments directly. A write goes to new
// files and becomes visible by an atomic rename of the manifest: a process
// killed at any point leaves the last committed state readable and nothing
// half-written visible. See docs/collections.md.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "arrowembed/format/dtype.h"

namespace arrowembed {
class EnginePool;
class Embedder;
}

namespace arrowembed::collection {

// What a collection's vectors came from: a collection is searched only with
// queries embedded by the same model (same weights, tokenizer, pooling and
// normalisation).
struct ModelFingerprint {
  std::string digest;  // hex: the model's tensor checksums and tokenizer.json (Embedder::fingerprint())
  int64_t dimension = 0;
  bool normalized = true;
  std::string model_name;  // informative only
  bool operator==(const ModelFingerprint&) const = default;
};

// Documents to add: ids.size() == texts.size() rows, each metadata column
// has one value per row, embeddings holds rows x dimension floats.
struct NewDocuments {
  std::vector<std::string> ids;
  std::vector<std::string> texts;
  std::vector<std::pair<std::string, std::vector<std::string>>> metadata;  // column name -> values
  std::vector<float> embeddings;
  // When set, add() refuses documents embedded by another model (Error).
  std::optional<ModelFingerprint> model;
};

// Equality on a metadata column (or "id").
struct Filter {
  std::string column;
  std::string value;
};

struct Hit {
  std::string id;
  float score = 0;  // inner product (cosine for normalised vectors)
  std::string text;
  std::vector<std::pair<std::string, std::string>> metadata;
};

enum class SearchMode {
  Auto,    // exact below a size threshold or with filters, else the index when there is one
  Exact,   // SIMD inner products over every vector
  Approx,  // the HNSW index (Error when there is none)
};

struct CollectionInfo {
  std::filesystem::path path;
  size_t size = 0;  // live documents
  size_t dimension = 0;
  DType dtype = DType::F32;  // of the stored embeddings
  ModelFingerprint model;
  size_t segments = 0;
  size_t deleted = 0;  // rows deleted but not yet compacted away
  bool has_index = false;
  std::vector<std::string> metadata_columns;
};

class Collection {
 public:
  // A new, empty collection in `dir` (created; must not hold one already).
  static Collection create(const std::filesystem::path& dir, const ModelFingerprint& model,
                           DType dtype = DType::F32);
  // Opens the committed state. Throws Error for a missing or damaged
  // manifest, segment or index, naming the file.
  static Collection open(const std::filesystem::path& dir);

  // Appends, then commits. Throws Error for a duplicate id (in the batch or
  // the collection), a wrong dimension, or metadata columns of the wrong length.
  // An existing index takes the new vectors; with `auto_index`, a collection
  // that reaches kExactBelow rows without one gets one built.
  void add(const NewDocuments& docs, bool auto_index = true);
  // Deletes by id, then commits; returns how many were found.
  size_t remove(const std::vector<std::string>& ids);
  // Rewrites the live rows into one segment and rebuilds the index, then commits.
  void compact();
  // Builds (or rebuilds) the approximate index, then commits.
  void build_index();

  CollectionInfo info() const;

  // Throws Error unless `model` is the collection's model (same digest and
  // dimension): queries and added documents must come from it.
  void require_model(const ModelFingerprint& model) const;

  // For each of the queries (rows x dimension, as the collection's model
  // makes them), the best `k` hits, best first. Multi-threaded on `pool`
  // when given.
  std::vector<std::vector<Hit>> search(std::span<const float> queries, size_t k,
                                       const std::vector<Filter>& filters = {}, SearchMode mode = SearchMode::Auto,
                                       EnginePool* pool = nullptr) const;

  // Below this many live vectors SearchMode::Auto searches exactly; add()
  // builds the approximate index once a collection reaches it.
  static constexpr size_t kExactBelow = 20000;

  struct State;

 private:
  explicit Collection(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// The fingerprint of the model an Embedder runs (Embedder::fingerprint(),
// its dimension and normalisation); `name` is informative (e.g. the file name).
ModelFingerprint model_fingerprint(const Embedder& embedder, const std::string& name);

}  // namespace arrowembed::collection

#pragma once
// The service every front end stands on, with no transport in it: several
// models by name, each behind an embedding cache and a dynamic batcher,
// loaded, swapped and unloaded while requests run; embed, similarity and
// tokenize with their per-request options; per-model metrics. Errors are
// ServiceError (service_error.h). Thread-safe.
//
//   service::EmbeddingService svc({.engine_threads = 0, .cache_entries = 16384});
//   svc.load({.name = "minilm", .path = "minilm.arrow"});
//   auto out = svc.embed({.texts = {"Hello"}});  // the default model
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrowembed/collection/collection.h"
#include "arrowembed/engine/embedder.h"
#include "arrowembed/service/model_spec.h"

namespace arrowembed::service {

class ServiceMetrics;
class LoadedModel;

struct ServiceOptions {
  size_t engine_threads = 0;     // one pool for every model; 0 = one thread per core
  size_t cache_entries = 16384;  // one LRU cache for every model; 0 disables it
  size_t max_inputs_per_request = 4096;
  size_t max_pass_tokens = EmbedderOptions{}.max_pass_tokens;  // the engine's forward-pass size
  // With one model loaded unnamed (a server run as `serve -m PATH`), any
  // model name a request gives selects it, as clients that always send a
  // name (OpenAI's) expect of a single-model server. Otherwise names are
  // checked.
  bool any_name_selects_default = false;
};

// How to name a request's texts in errors: the list ("inputs") when there
// are too many, the i-th text ("inputs[3]") when it is too long.
struct FieldNames {
  std::string list = "inputs";
  std::function<std::string(size_t)> item;
  // "name" for a single string, "name[i]" for a list.
  static FieldNames of_list(std::string name, bool single);
};

struct EmbedRequest {
  std::string model;  // empty: the default model
  std::vector<std::string> texts;
  FieldNames fields = FieldNames::of_list("inputs", false);
  std::optional<bool> truncate;  // unset: the model's auto_truncate
  bool normalize = true;
  std::optional<size_t> dimensions;  // Matryoshka: keep the first N, then normalise
};

// Where one request's time went, for its log line.
struct BatchTiming {
  double queue_ms = 0;      // enqueued -> its first input entered a batch
  double inference_ms = 0;  // first input entered a batch -> last input done
};

// What computing a request's texts took.
struct Usage {
  size_t inputs = 0;
  size_t tokens = 0;  // after truncation, with [CLS] and [SEP]
  size_t cache_hits = 0;
  BatchTiming timing;
};

struct Embeddings {
  std::string model;          // the model's name
  std::vector<float> values;  // rows x dimension, row-major
  size_t rows = 0;
  size_t dimension = 0;
  Usage usage;
};

struct SimilarityRequest {
  std::string model;
  // Either one source against many sentences...
  std::optional<std::string> source;
  std::vector<std::string> sentences;
  // ...or independent pairs.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::optional<bool> truncate;
  // How errors name the source and the sentences (TEI's names by default).
  std::string source_field = "inputs.source_sentence";
  std::string sentences_field = "inputs.sentences";
};

struct Similarity {
  std::string model;
  std::vector<float> scores;  // cosine, one per sentence or pair
  Usage usage;
};

struct TokenizeRequest {
  std::string model;
  std::vector<std::string> texts;
  FieldNames fields = FieldNames::of_list("inputs", false);
  bool truncate = false;
};

struct Token {
  int32_t id;
  std::string text;
  bool special;  // added by the post-processor ([CLS], [SEP]): no span
  size_t start, stop;  // byte offsets into the text
};

struct Tokenized {
  std::string model;
  std::vector<std::vector<Token>> texts;
};

// One served model as the front ends describe it.
struct ModelInfo {
  std::string name;
  std::string path;
  bool is_default = false;
  ModelConfig config;
  MatmulPrecision precision = MatmulPrecision::F32;  // as asked for
  std::string products;  // what the products run in: "f32", "bf16" or "int8" (Embedder::products)
  std::string kernel;    // Embedder::kernel, e.g. "int8-vnni512"
  ModelLimits limits;
  double load_ms = 0;
  size_t memory_bytes = 0;  // file, packed weights, workspace
  int64_t loaded_at = 0;    // Unix seconds
};

// A collection to serve: searched with the model that made it (checked by
// fingerprint), which must be served.
struct CollectionSpec {
  std::string name;
  std::filesystem::path path;
  std::string model;  // empty: whichever served model made it
};

struct CollectionSummary {
  std::string name;
  std::string path;
  std::string model;  // the served model its queries are embedded with
  size_t size = 0;    // documents
  size_t dimension = 0;
  std::string dtype;  // of the stored vectors
  bool has_index = false;
  std::vector<std::string> metadata_columns;
};

struct SearchRequest {
  std::string collection;
  std::vector<std::string> queries;
  FieldNames fields = FieldNames::of_list("queries", false);
  size_t k = 10;
  std::vector<collection::Filter> filters;
  collection::SearchMode mode = collection::SearchMode::Auto;
  std::optional<bool> truncate;
};

struct SearchResult {
  std::string collection;
  std::string model;
  std::vector<std::vector<collection::Hit>> hits;  // one list per query, best first
  Usage usage;
};

// What a load did.
struct LoadResult {
  ModelInfo model;
  bool replaced = false;  // a model of that name was served before
};

class EmbeddingService {
 public:
  explicit EmbeddingService(const ServiceOptions& options);
  ~EmbeddingService();
  EmbeddingService(const EmbeddingService&) = delete;
  EmbeddingService& operator=(const EmbeddingService&) = delete;

  // Loads spec.path beside the models being served (mapped, checksums
  // verified, weights packed, one text embedded to warm it), then serves it
  // as spec.name, replacing a model of that name atomically: requests that
  // already started finish on the old one, whose memory is returned when the
  // last of them ends. A file that cannot be loaded is InvalidInput naming
  // "path", and whatever was served under that name keeps serving.
  // spec.is_default makes it the default (the first model loaded is anyway).
  LoadResult load(const ModelSpec& spec);
  // Stops serving a model; requests in flight on it finish. ModelNotFound
  // for a name not served; Conflict for the default model (load another
  // under its name, or another as the default, first).
  void unload(const std::string& name);

  std::vector<ModelInfo> models() const;  // in load order
  ModelInfo model(const std::string& name) const;  // empty name: the default
  bool has_models() const;

  // Opens a collection and serves it for search. InvalidInput naming "path"
  // when it cannot be opened or no served model made it; "name" when the
  // name is taken.
  void attach_collection(const CollectionSpec& spec);
  std::vector<CollectionSummary> collections() const;  // in attach order

  Embeddings embed(const EmbedRequest& request) const;
  Similarity similarity(const SimilarityRequest& request) const;
  Tokenized tokenize(const TokenizeRequest& request) const;
  // Embeds the queries with the collection's model, then searches it.
  // CollectionNotFound for a name not served; Conflict when the model served
  // under its model's name is no longer the one that made it (swapped).
  SearchResult search(const SearchRequest& request) const;

  // Finishes every queued request, then refuses new ones as Unavailable.
  void stop();

  const ServiceOptions& options() const { return options_; }
  ServiceMetrics& metrics() const { return *metrics_; }
  size_t cache_entries() const;
  size_t cache_capacity() const { return options_.cache_entries; }
  size_t engine_threads() const;  // of the pool every model runs on

 private:
  std::shared_ptr<const LoadedModel> find(const std::string& name) const;
  // Texts of one request embedded (un-normalised, full dimension) on `model`.
  Embeddings compute(const LoadedModel& model, const std::vector<std::string>& texts, const FieldNames& fields,
                     std::optional<bool> truncate) const;

  struct State;
  ServiceOptions options_;
  std::unique_ptr<ServiceMetrics> metrics_;
  std::unique_ptr<State> state_;
};

// Keeps the first `keep` floats of each row and L2-normalises them if asked
// (Matryoshka truncation), compacting rows in place.
void finish_rows(std::vector<float>& values, size_t rows, size_t dimension, size_t keep, bool normalize);

}  // namespace arrowembed::service

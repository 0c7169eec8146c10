#include "arrowembed/service/embedding_service.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "arrowembed/service/service_error.h"
#include "service/embedding_cache.h"
#include "service/loaded_model.h"
#include "service/service_metrics.h"

namespace arrowembed::service {

namespace {
constexpr size_t kMaxSearchK = 1000;
}  // namespace

FieldNames FieldNames::of_list(std::string name, bool single) {
  FieldNames f;
  f.list = name;
  f.item = [name = std::move(name), single](size_t i) { return single ? name : name + "[" + std::to_string(i) + "]"; };
  return f;
}

struct EmbeddingService::State {
  explicit State(const ServiceOptions& o) : pool(EnginePool::create(o.engine_threads)), cache(o.cache_entries) {}

  std::shared_ptr<EnginePool> pool;  // every model's passes take turns on it
  EmbeddingCache cache;
  std::mutex load_mutex;  // one load or unload at a time
  mutable std::mutex mutex;  // guards what follows; never held while loading or computing
  std::vector<std::shared_ptr<const LoadedModel>> models;  // load order
  std::string default_name;
  bool stopped = false;
  std::atomic<uint64_t> next_id{1};

  struct AttachedCollection {
    std::string name;
    std::shared_ptr<const collection::Collection> collection;
    std::string model;  // the served model that made it
    collection::CollectionInfo info;
  };
  std::vector<AttachedCollection> collections;  // guarded by mutex
};

EmbeddingService::EmbeddingService(const ServiceOptions& options)
    : options_(options), metrics_(std::make_unique<ServiceMetrics>()), state_(std::make_unique<State>(options)) {
  // Models come and go: their large buffers (packed weights, workspaces)
  // must go back to the system when freed. glibc serves them from mmap
  // only until the first one is freed, then raises its threshold and keeps
  // later ones in per-thread arenas, where an unloaded model's memory would
  // stay resident. A fixed threshold keeps them mapped.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

EmbeddingService::~EmbeddingService() { stop(); }

LoadResult EmbeddingService::load(const ModelSpec& spec) {
  std::vector<ModelSpec> check{spec};
  try {
    check_model_specs(check);
  } catch (const Error& e) {
    throw invalid_field("name", e.what());
  }
  std::lock_guard load_lock(state_->load_mutex);
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped) throw ServiceError(ErrorKind::Unavailable, "the service is shutting down", {}, 1);
  }
  std::shared_ptr<const LoadedModel> model;
  try {
    model = LoadedModel::load(spec, state_->next_id++, state_->pool, options_.max_pass_tokens, *metrics_);
  } catch (const Error& e) {
    metrics_->model_loads.add({spec.name, "failed"});
    throw ServiceError(ErrorKind::InvalidInput,
                       "'path' " + spec.path.string() + " cannot be loaded as model '" + spec.name + "': " + e.what(),
                       "path");
  }
  std::shared_ptr<const LoadedModel> old;
  bool is_default = false;
  {
    std::lock_guard lock(state_->mutex);
    auto& models = state_->models;
    const auto it = std::find_if(models.begin(), models.end(), [&](const auto& m) { return m->name() == spec.name; });
    if (it != models.end()) {
      old = std::exchange(*it, model);
    } else {
      models.push_back(model);
    }
    if (spec.is_default || state_->default_name.empty()) state_->default_name = spec.name;
    is_default = state_->default_name == spec.name;
  }
  if (old) {
    state_->cache.erase_model(old->id());
    metrics_->model_info.remove(old->info_labels());
  }
  metrics_->model_loads.add({spec.name, old ? "replaced" : "loaded"});
  metrics_->model_info.set(model->info_labels(), 1);
  if (!old) metrics_->queue_size.set({spec.name}, 0);  // the series exists from the start
  LoadResult result{model->info(is_default), old != nullptr};
  metrics_->model_memory.set({spec.name}, static_cast<double>(result.model.memory_bytes));
  return result;  // `old` goes when the last request on it ends
}

void EmbeddingService::unload(const std::string& name) {
  std::lock_guard load_lock(state_->load_mutex);
  std::shared_ptr<const LoadedModel> old;
  {
    std::lock_guard lock(state_->mutex);
    auto& models = state_->models;
    const auto it = std::find_if(models.begin(), models.end(), [&](const auto& m) { return m->name() == name; });
    if (it == models.end()) throw ServiceError(ErrorKind::ModelNotFound, "no model named '" + name + "' is served", "model");
    if (name == state_->default_name) {
      throw ServiceError(ErrorKind::Conflict, "'" + name +
                                                  "' is the default model and cannot be unloaded; load another "
                                                  "model under its name, or another one as the default, first");
    }
    old = std::move(*it);
    models.erase(it);
  }
  state_->cache.erase_model(old->id());
  metrics_->model_info.remove(old->info_labels());
  metrics_->model_memory.remove({name});
  metrics_->queue_size.remove({name});
  metrics_->model_loads.add({name, "unloaded"});
}

std::shared_ptr<const LoadedModel> EmbeddingService::find(const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  const auto& models = state_->models;
  if (state_->stopped) throw ServiceError(ErrorKind::Unavailable, "the service is shutting down", {}, 1);
  if (models.empty()) throw ServiceError(ErrorKind::Unavailable, "no model is loaded yet", {}, 1);
  const std::string& wanted = name.empty() ? state_->default_name : name;
  for (const auto& m : models) {
    if (m->name() == wanted) return m;
  }
  if (options_.any_name_selects_default && models.size() == 1) return models.front();
  std::string served;
  for (const auto& m : models) served += (served.empty() ? "" : ", ") + m->name();
  throw ServiceError(ErrorKind::ModelNotFound, "model '" + name + "' is not served (served: " + served + ")", "model");
}

bool EmbeddingService::has_models() const {
  std::lock_guard lock(state_->mutex);
  return !state_->models.empty();
}

std::vector<ModelInfo> EmbeddingService::models() const {
  std::vector<std::shared_ptr<const LoadedModel>> models;
  std::string default_name;
  {
    std::lock_guard lock(state_->mutex);
    models = state_->models;
    default_name = state_->default_name;
  }
  std::vector<ModelInfo> out;
  for (const auto& m : models) {
    out.push_back(m->info(m->name() == default_name));
    metrics_->model_memory.set({m->name()}, static_cast<double>(out.back().memory_bytes));
  }
  return out;
}

ModelInfo EmbeddingService::model(const std::string& name) const {
  const auto m = find(name);
  std::lock_guard lock(state_->mutex);
  return m->info(m->name() == state_->default_name);
}

size_t EmbeddingService::cache_entries() const { return state_->cache.size(); }
size_t EmbeddingService::engine_threads() const { return state_->pool->size(); }

Embeddings EmbeddingService::compute(const LoadedModel& model, const std::vector<std::string>& texts,
                                     const FieldNames& fields, std::optional<bool> truncate_option) const {
  if (texts.empty()) throw invalid_field(fields.list, "must not be empty");
  if (texts.size() > options_.max_inputs_per_request) {
    throw invalid_field(fields.list, "has " + std::to_string(texts.size()) + " inputs; the limit is " +
                                         std::to_string(options_.max_inputs_per_request));
  }
  const Embedder& embedder = model.embedder();
  const bool truncate = truncate_option.value_or(model.spec().limits.auto_truncate);
  const size_t dim = embedder.dimension();
  const size_t max_tokens = static_cast<size_t>(embedder.config().max_seq_length);
  const EmbeddingCache::Model key{model.id(), dim};
  Embeddings result;
  result.model = model.name();
  result.rows = texts.size();
  result.dimension = dim;
  result.values.resize(texts.size() * dim);
  Usage& usage = result.usage;
  usage.inputs = texts.size();

  std::vector<size_t> missing;  // indexes of texts the cache did not have
  for (size_t i = 0; i < texts.size(); ++i) {
    size_t tokens = 0;
    if (state_->cache.lookup(key, texts[i], truncate, result.values.data() + i * dim, &tokens)) {
      ++usage.cache_hits;
      usage.tokens += tokens;
    } else {
      missing.push_back(i);
    }
  }
  if (!missing.empty()) {
    embedder.prepare();
    std::vector<Encoding> encodings;
    encodings.reserve(missing.size());
    const size_t max_length = truncate ? max_tokens : Tokenizer::kNoTruncation;
    for (const size_t i : missing) {
      Encoding e;
      try {
        e = embedder.tokenizer().encode(texts[i], max_length);
      } catch (const Error& error) {
        throw invalid_field(fields.item(i), error.what());
      }
      if (e.size() > max_tokens) {
        const std::string name = fields.item(i);
        throw ServiceError(ErrorKind::TooLong,
                           "'" + name + "' has " + std::to_string(e.size()) + " tokens; the model takes at most " +
                               std::to_string(max_tokens) + " (send \"truncate\": true to cut it)",
                           name);
      }
      usage.tokens += e.size();
      encodings.push_back(std::move(e));
    }
    std::vector<float> computed(missing.size() * dim);
    usage.timing = model.batcher().embed(encodings, computed);
    for (size_t k = 0; k < missing.size(); ++k) {
      const float* row = computed.data() + k * dim;
      std::copy_n(row, dim, result.values.data() + missing[k] * dim);
      state_->cache.insert(key, texts[missing[k]], truncate, row, encodings[k].size());
    }
  }
  const prometheus::LabelValues labels{model.name()};
  metrics_->cache_hits.add(labels, static_cast<double>(usage.cache_hits));
  metrics_->cache_misses.add(labels, static_cast<double>(missing.size()));
  metrics_->inputs.add(labels, static_cast<double>(texts.size()));
  metrics_->tokens.add(labels, static_cast<double>(usage.tokens));
  metrics_->cache_entries.set(static_cast<double>(state_->cache.size()));
  return result;
}

Embeddings EmbeddingService::embed(const EmbedRequest& request) const {
  const auto model = find(request.model);
  const size_t dim = model->embedder().dimension();
  if (request.dimensions && (*request.dimensions < 1 || *request.dimensions > dim)) {
    throw invalid_field("dimensions", "must be between 1 and " + std::to_string(dim));
  }
  Embeddings out = compute(*model, request.texts, request.fields, request.truncate);
  out.dimension = request.dimensions.value_or(dim);
  finish_rows(out.values, out.rows, dim, out.dimension, request.normalize);
  return out;
}

Similarity EmbeddingService::similarity(const SimilarityRequest& request) const {
  const auto model = find(request.model);
  std::vector<std::string> texts;
  FieldNames fields;
  if (request.source) {
    texts.push_back(*request.source);
    texts.insert(texts.end(), request.sentences.begin(), request.sentences.end());
    fields.list = request.sentences_field;
    fields.item = [&request](size_t i) {
      return i == 0 ? request.source_field : request.sentences_field + "[" + std::to_string(i - 1) + "]";
    };
  } else {
    for (const auto& [a, b] : request.pairs) {
      texts.push_back(a);
      texts.push_back(b);
    }
    fields.list = "pairs";
    fields.item = [](size_t i) { return "pairs[" + std::to_string(i / 2) + "][" + std::to_string(i % 2) + "]"; };
  }
  Embeddings e = compute(*model, texts, fields, request.truncate);
  // Normalised vectors: cosine similarity is their dot product.
  finish_rows(e.values, e.rows, e.dimension, e.dimension, true);
  auto dot = [&](size_t a, size_t b) {
    const float* x = e.values.data() + a * e.dimension;
    const float* y = e.values.data() + b * e.dimension;
    double s = 0;
    for (size_t i = 0; i < e.dimension; ++i) s += static_cast<double>(x[i]) * y[i];
    return static_cast<float>(s);
  };
  Similarity out;
  out.model = model->name();
  out.usage = e.usage;
  if (request.source) {
    for (size_t i = 1; i < texts.size(); ++i) out.scores.push_back(dot(0, i));
  } else {
    for (size_t i = 0; i < request.pairs.size(); ++i) out.scores.push_back(dot(2 * i, 2 * i + 1));
  }
  return out;
}

Tokenized EmbeddingService::tokenize(const TokenizeRequest& request) const {
  const auto model = find(request.model);
  if (request.texts.empty()) throw invalid_field(request.fields.list, "must not be empty");
  if (request.texts.size() > options_.max_inputs_per_request) {
    throw invalid_field(request.fields.list, "has " + std::to_string(request.texts.size()) +
                                                 " inputs; the limit is " +
                                                 std::to_string(options_.max_inputs_per_request));
  }
  const Tokenizer& tokenizer = model->embedder().tokenizer();
  const size_t max_length =
      request.truncate ? static_cast<size_t>(model->embedder().config().max_seq_length) : Tokenizer::kNoTruncation;
  Tokenized out;
  out.model = model->name();
  for (size_t t = 0; t < request.texts.size(); ++t) {
    Encoding e;
    try {
      e = tokenizer.encode(request.texts[t], max_length);
    } catch (const Error& error) {
      throw invalid_field(request.fields.item(t), error.what());
    }
    std::vector<Token>& tokens = out.texts.emplace_back();
    tokens.reserve(e.size());
    for (size_t k = 0; k < e.size(); ++k) {
      const auto [start, stop] = e.offsets[k];
      tokens.push_back({e.ids[k], std::string(tokenizer.id_to_token(e.ids[k])), start == stop, start, stop});
    }
  }
  return out;
}

void EmbeddingService::attach_collection(const CollectionSpec& spec) {
  if (spec.name.empty() || spec.name.find('/') != std::string::npos) {
    throw invalid_field("name", "must be a non-empty name without '/'");
  }
  collection::Collection opened = [&] {
    try {
      return collection::Collection::open(spec.path);
    } catch (const Error& e) {
      throw ServiceError(ErrorKind::InvalidInput, "'path' " + spec.path.string() + " cannot be opened as collection '" +
                                                      spec.name + "': " + e.what(),
                         "path");
    }
  }();
  const collection::CollectionInfo info = opened.info();
  std::vector<std::shared_ptr<const LoadedModel>> models;
  {
    std::lock_guard lock(state_->mutex);
    models = state_->models;
  }
  std::string model;
  for (const auto& m : models) {
    if ((spec.model.empty() || m->name() == spec.model) && m->embedder().fingerprint() == info.model.digest) {
      model = m->name();
      break;
    }
  }
  if (model.empty()) {
    throw ServiceError(ErrorKind::InvalidInput,
                       "'path' " + spec.path.string() + ": collection '" + spec.name + "' was made by model '" +
                           info.model.model_name + "' (fingerprint " + info.model.digest + "), which " +
                           (spec.model.empty() ? "no served model is" : "model '" + spec.model + "' is not"),
                       "path");
  }
  std::lock_guard lock(state_->mutex);
  for (const auto& c : state_->collections) {
    if (c.name == spec.name) throw invalid_field("name", "collection '" + spec.name + "' is already served");
  }
  state_->collections.push_back(
      {spec.name, std::make_shared<const collection::Collection>(std::move(opened)), model, info});
}

std::vector<CollectionSummary> EmbeddingService::collections() const {
  std::lock_guard lock(state_->mutex);
  std::vector<CollectionSummary> out;
  for (const auto& c : state_->collections) {
    out.push_back({c.name, c.info.path.string(), c.model, c.info.size, c.info.dimension,
                   std::string(dtype_name(c.info.dtype)), c.info.has_index, c.info.metadata_columns});
  }
  return out;
}

SearchResult EmbeddingService::search(const SearchRequest& request) const {
  std::shared_ptr<const collection::Collection> target;
  std::string model_name, digest;
  bool normalized = true;
  {
    std::lock_guard lock(state_->mutex);
    std::string names;
    for (const auto& c : state_->collections) {
      names += (names.empty() ? "" : ", ") + c.name;
      if (c.name == request.collection) {
        target = c.collection;
        model_name = c.model;
        digest = c.info.model.digest;
        normalized = c.info.model.normalized;
      }
    }
    if (!target) {
      throw ServiceError(ErrorKind::CollectionNotFound,
                         "collection '" + request.collection + "' is not served (served: " + names + ")", "collection");
    }
  }
  if (request.k < 1 || request.k > kMaxSearchK) {
    throw invalid_field("k", "must be between 1 and " + std::to_string(kMaxSearchK));
  }
  const auto model = find(model_name);
  if (model->embedder().fingerprint() != digest) {
    throw ServiceError(ErrorKind::Conflict, "model '" + model_name + "' was replaced by one that did not make collection '" +
                                                request.collection + "'; its vectors would not compare");
  }
  Embeddings queries = compute(*model, request.queries, request.fields, request.truncate);
  finish_rows(queries.values, queries.rows, queries.dimension, queries.dimension, normalized);
  SearchResult out;
  out.collection = request.collection;
  out.model = model_name;
  out.usage = queries.usage;
  try {
    out.hits = target->search(queries.values, request.k, request.filters, request.mode, state_->pool.get());
  } catch (const ServiceError&) {
    throw;
  } catch (const Error& e) {  // a filter on a column the collection lacks, approx without an index
    throw ServiceError(ErrorKind::InvalidInput, e.what(), request.filters.empty() ? "mode" : "filter");
  }
  return out;
}

void EmbeddingService::stop() {
  std::vector<std::shared_ptr<const LoadedModel>> models;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    models = state_->models;
  }
  for (const auto& m : models) m->batcher().stop();
}

void finish_rows(std::vector<float>& values, size_t rows, size_t dimension, size_t keep, bool normalize) {
  truncate_rows(values, rows, dimension, keep, normalize);
  values.resize(rows * keep);
}

}  // namespace arrowembed::service

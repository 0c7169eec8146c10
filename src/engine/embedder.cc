#include "arrowembed/engine/embedder.h"

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "arrowembed/error.h"
#include "arrowembed/format/model_file.h"
#include "engine/batch_plan.h"
#include "engine/bert_encoder.h"
#include "engine/cpu_features.h"
#include "engine/pooling.h"
#include "engine/thread_pool.h"

// Header-only use of xxHash (the engine does not link libxxhash itself).
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace arrowembed {

using engine::PackedBatch;

struct Embedder::State {
  State(ModelFile m, const EmbedderOptions& o)
      : model(std::move(m)),
        options(o),
        tokenizer(Tokenizer::from_json(model.tokenizer_json())),
        encoder(model, o.precision),
        pool(o.pool ? o.pool : EnginePool::create(o.num_threads)) {}

  ModelFile model;
  EmbedderOptions options;
  Tokenizer tokenizer;
  engine::BertEncoder encoder;
  std::shared_ptr<EnginePool> pool;
  // Used only under the pool's lock: one forward pass at a time.
  engine::Workspace workspace;
  // fingerprint(), computed on first use.
  std::once_flag fingerprint_once;
  std::string fingerprint;
};

void l2_normalize(std::span<float> vector) { engine::l2_normalize(vector.data(), vector.size()); }

void truncate_rows(std::span<float> values, size_t rows, size_t dimension, size_t keep, bool normalize) {
  if (keep > dimension || values.size() < rows * dimension) {
    throw Error("truncate_rows: " + std::to_string(rows) + " rows of " + std::to_string(dimension) + " in " +
                std::to_string(values.size()) + " floats cannot keep " + std::to_string(keep));
  }
  for (size_t r = 0; r < rows; ++r) {
    float* dst = values.data() + r * keep;  // dst <= src: compacting forwards is safe
    std::memmove(dst, values.data() + r * dimension, keep * sizeof(float));
    if (normalize) engine::l2_normalize(dst, keep);
  }
}

Embedder::Embedder(std::shared_ptr<State> state) : state_(std::move(state)) {}

Embedder Embedder::load(const std::filesystem::path& path, const EmbedderOptions& options) {
  engine::require_cpu_features();
  return from_model(ModelFile::open(path), options);
}

Embedder Embedder::from_model(ModelFile model, const EmbedderOptions& options) {
  engine::require_cpu_features();
  engine::require_supported(model.config().pooling);
  if (options.max_pass_tokens == 0) throw Error("max_pass_tokens must be positive");
  return Embedder(std::make_shared<State>(std::move(model), options));
}

const ModelConfig& Embedder::config() const { return state_->model.config(); }
const Tokenizer& Embedder::tokenizer() const { return state_->tokenizer; }
size_t Embedder::dimension() const { return static_cast<size_t>(config().hidden_size); }
size_t Embedder::num_threads() const { return state_->pool->size(); }
void Embedder::prepare() const { state_->pool->wake(); }

void Embedder::pack_weights() const {
  const auto lock = state_->pool->lock();
  state_->encoder.pack_weights(state_->pool->threads());
}

std::string_view Embedder::kernel() const { return state_->encoder.kernel(); }

std::string_view Embedder::products() const {
  const std::string_view k = kernel();
  return k.substr(0, k.find('-'));
}

size_t Embedder::memory_bytes() const {
  const auto lock = state_->pool->lock();  // the workspace grows only under it
  return static_cast<size_t>(state_->model.file_bytes()) + state_->encoder.packed_bytes() +
         state_->workspace.bytes();
}

const std::string& Embedder::fingerprint() const {
  std::call_once(state_->fingerprint_once, [this] {
    XXH3_state_t* h = XXH3_createState();
    XXH3_128bits_reset(h);
    // Every field is length-prefixed so that no two inputs hash the same bytes.
    auto add = [h](std::string_view bytes) {
      const uint64_t n = bytes.size();
      XXH3_128bits_update(h, &n, sizeof n);
      XXH3_128bits_update(h, bytes.data(), bytes.size());
    };
    add("arrowembed-fingerprint-1");
    for (const TensorView& t : state_->model.tensors()) {
      add(t.name);
      add(dtype_name(t.dtype));
      add(t.shape_string());
      add(std::string_view(static_cast<const char*>(t.data), t.nbytes()));
    }
    add(state_->model.tokenizer_json());
    const ModelConfig& c = config();
    add(pooling_name(c.pooling));
    add(c.normalize ? "normalize" : "raw");
    add(std::to_string(c.max_seq_length));
    const XXH128_hash_t digest = XXH3_128bits_digest(h);
    XXH3_freeState(h);
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(digest.high64),
                  static_cast<unsigned long long>(digest.low64));
    state_->fingerprint = hex;
  });
  return state_->fingerprint;
}

namespace {

size_t resolve_max_length(const ModelConfig& config, const EmbedOptions& options) {
  const size_t model_max = static_cast<size_t>(config.max_seq_length);
  if (options.max_length == 0) return model_max;
  if (options.max_length > model_max)
    throw Error("max_length " + std::to_string(options.max_length) + " exceeds the model's max_seq_length " +
                std::to_string(model_max));
  return options.max_length;
}

}  // namespace

EmbedStats Embedder::embed(std::span<const std::string_view> texts, std::span<float> out,
                           const EmbedOptions& options) const {
  const size_t max_length = resolve_max_length(config(), options);
  const auto encodings = state_->tokenizer.encode_batch(texts, max_length, std::min<size_t>(num_threads(), texts.size() / 64 + 1));
  return embed_encodings(encodings, out, options);
}

std::vector<float> Embedder::embed(std::span<const std::string_view> texts, const EmbedOptions& options) const {
  std::vector<float> out(texts.size() * dimension());
  embed(texts, out, options);
  return out;
}

EmbedStats Embedder::embed_encodings(std::span<const Encoding> encodings, std::span<float> out,
                                     const EmbedOptions& options) const {
  const ModelConfig& c = config();
  const size_t width = dimension();
  if (out.size() < encodings.size() * width)
    throw Error("output holds " + std::to_string(out.size()) + " floats, " +
                std::to_string(encodings.size() * width) + " needed");
  const size_t max_length = resolve_max_length(c, options);
  std::vector<size_t> lengths(encodings.size());
  EmbedStats stats;
  stats.texts = encodings.size();
  for (size_t i = 0; i < encodings.size(); ++i) {
    const auto& ids = encodings[i].ids;
    if (ids.size() > max_length)
      throw Error("text " + std::to_string(i) + " has " + std::to_string(ids.size()) + " tokens, more than " +
                  std::to_string(max_length));
    for (int32_t id : ids)
      if (id < 0 || id >= c.vocab_size)
        throw Error("text " + std::to_string(i) + ": token id " + std::to_string(id) + " is outside the vocabulary");
    lengths[i] = ids.size();
    stats.tokens += ids.size();
  }
  const bool normalize = options.normalize.value_or(c.normalize);

  const auto lock = state_->pool->lock();
  engine::ThreadPool& pool = state_->pool->threads();
  PackedBatch batch;
  for (const auto& group : engine::plan_batches(lengths, state_->options.max_pass_tokens)) {
    batch.ids.clear();
    batch.starts.assign(1, 0);
    for (size_t i : group) {
      batch.ids.insert(batch.ids.end(), encodings[i].ids.begin(), encodings[i].ids.end());
      batch.starts.push_back(batch.ids.size());
    }
    const float* hidden = state_->encoder.forward(batch, state_->workspace, pool, &stats.flops);
    pool.parallel_for(group.size(), [&](size_t g) {
      float* row = out.data() + group[g] * width;
      engine::pool_sequence(c.pooling, hidden + batch.starts[g] * width, batch.length(g), width, row);
      if (normalize) engine::l2_normalize(row, width);
    });
    ++stats.batches;
  }
  return stats;
}

}  // namespace arrowembed

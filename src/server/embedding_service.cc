#include "server/embedding_service.h"

#include <algorithm>
#include <cmath>

#include "server/api_error.h"

namespace arrowembed::server {

FieldNamer list_field(std::string name, bool single) {
  return [name = std::move(name), single](size_t i) { return single ? name : name + "[" + std::to_string(i) + "]"; };
}

EmbeddingService::EmbeddingService(Embedder embedder, const ServiceOptions& options, ServiceMetrics& metrics)
    : embedder_(std::move(embedder)),
      metrics_(metrics),
      cache_(options.cache_entries, embedder_.dimension()),
      batcher_(embedder_, options.batcher, metrics) {}

std::vector<Encoding> EmbeddingService::tokenize(const std::vector<std::string>& texts, bool truncate) const {
  const size_t max_length = truncate ? static_cast<size_t>(config().max_seq_length) : Tokenizer::kNoTruncation;
  std::vector<Encoding> out;
  out.reserve(texts.size());
  for (const std::string& text : texts) out.push_back(embedder_.tokenizer().encode(text, max_length));
  return out;
}

EmbedOutput EmbeddingService::embed(const std::vector<std::string>& texts, bool truncate, bool normalize,
                                    std::optional<size_t> dimensions, const FieldNamer& field_of) const {
  const size_t dim = embedder_.dimension();
  const size_t max_tokens = static_cast<size_t>(config().max_seq_length);
  EmbedOutput result;
  result.rows = texts.size();
  result.values.resize(texts.size() * dim);

  std::vector<size_t> missing;  // indexes of texts the cache did not have
  for (size_t i = 0; i < texts.size(); ++i) {
    size_t tokens = 0;
    if (cache_.lookup(texts[i], truncate, result.values.data() + i * dim, &tokens)) {
      ++result.cache_hits;
      result.tokens += tokens;
    } else {
      missing.push_back(i);
    }
  }
  if (!missing.empty()) {
    embedder_.prepare();
    std::vector<Encoding> encodings;
    encodings.reserve(missing.size());
    const size_t max_length = truncate ? max_tokens : Tokenizer::kNoTruncation;
    for (const size_t i : missing) {
      Encoding e = embedder_.tokenizer().encode(texts[i], max_length);
      if (e.size() > max_tokens) {
        const std::string name = field_of(i);
        throw ApiError(422,
                       "'" + name + "' has " + std::to_string(e.size()) + " tokens; the model takes at most " +
                           std::to_string(max_tokens) + " (send \"truncate\": true to cut it)",
                       name);
      }
      result.tokens += e.size();
      encodings.push_back(std::move(e));
    }
    std::vector<float> computed(missing.size() * dim);
    result.timing = batcher_.embed(encodings, computed);
    for (size_t k = 0; k < missing.size(); ++k) {
      const float* row = computed.data() + k * dim;
      std::copy_n(row, dim, result.values.data() + missing[k] * dim);
      cache_.insert(texts[missing[k]], truncate, row, encodings[k].size());
    }
  }
  metrics_.cache_hits.add({}, static_cast<double>(result.cache_hits));
  metrics_.cache_misses.add({}, static_cast<double>(missing.size()));
  metrics_.inputs.add({}, static_cast<double>(texts.size()));
  metrics_.tokens.add({}, static_cast<double>(result.tokens));
  metrics_.cache_entries.set(static_cast<double>(cache_.size()));

  result.dimension = dimensions.value_or(dim);
  finish_rows(result.values, result.rows, dim, result.dimension, normalize);
  return result;
}

void finish_rows(std::vector<float>& values, size_t rows, size_t dimension, size_t keep, bool normalize) {
  for (size_t r = 0; r < rows; ++r) {
    const float* src = values.data() + r * dimension;
    float* dst = values.data() + r * keep;  // dst <= src: compacting forwards is safe
    double norm2 = 0;
    for (size_t i = 0; i < keep; ++i) {
      dst[i] = src[i];
      norm2 += static_cast<double>(dst[i]) * dst[i];
    }
    if (normalize) {
      // sentence-transformers' Normalize: x / max(||x||, 1e-12)
      const float scale = static_cast<float>(1.0 / std::max(std::sqrt(norm2), 1e-12));
      for (size_t i = 0; i < keep; ++i) dst[i] *= scale;
    }
  }
  values.resize(rows * keep);
}

}  // namespace arrowembed::server

#pragma once
// One model as the service serves it: the engine, its dynamic batcher and
// what it was loaded from. Immutable once made; requests hold it by
// shared_ptr, so a model swapped out or unloaded lives until the last
// request on it ends, and then returns its memory.
#include <chrono>
#include <cstdint>
#include <memory>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/service/embedding_service.h"
#include "arrowembed/service/model_spec.h"
#include "service/batcher.h"
#include "service/service_metrics.h"

namespace arrowembed::service {

class LoadedModel {
 public:
  // Opens spec.path, verifies every tensor's checksum, packs the weights for
  // batches and embeds one text, so that the first request pays for none of
  // it. `id` is unique per loaded instance (the cache's key). Throws Error.
  static std::shared_ptr<LoadedModel> load(const ModelSpec& spec, uint64_t id, std::shared_ptr<EnginePool> pool,
                                           size_t max_pass_tokens, ServiceMetrics& metrics);
  ~LoadedModel();

  const ModelSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const Embedder& embedder() const { return embedder_; }
  Batcher& batcher() const { return *batcher_; }
  uint64_t id() const { return id_; }
  ModelInfo info(bool is_default) const;
  // Its labels on embedding_model_info.
  prometheus::LabelValues info_labels() const;

 private:
  LoadedModel(const ModelSpec& spec, uint64_t id, Embedder embedder, ServiceMetrics& metrics);

  ModelSpec spec_;
  uint64_t id_;
  Embedder embedder_;
  std::unique_ptr<Batcher> batcher_;  // after embedder_: it runs on it
  double load_ms_ = 0;
  int64_t loaded_at_ = 0;
};

}  // namespace arrowembed::service

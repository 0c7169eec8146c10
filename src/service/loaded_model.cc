#include "service/loaded_model.h"

#include <malloc.h>

#include <string_view>

#include "arrowembed/format/model_file.h"

namespace arrowembed::service {

LoadedModel::LoadedModel(const ModelSpec& spec, uint64_t id, Embedder embedder, ServiceMetrics& metrics)
    : spec_(spec),
      id_(id),
      embedder_(std::move(embedder)),
      batcher_(std::make_unique<Batcher>(embedder_, spec.limits, metrics, spec.name)) {}

LoadedModel::~LoadedModel() { batcher_->stop(); }

std::shared_ptr<LoadedModel> LoadedModel::load(const ModelSpec& spec, uint64_t id, std::shared_ptr<EnginePool> pool,
                                               size_t max_pass_tokens, ServiceMetrics& metrics) {
  const auto t0 = std::chrono::steady_clock::now();
  ModelFile file = ModelFile::open(spec.path);
  file.verify_checksums();
  EmbedderOptions options;
  options.pool = std::move(pool);
  options.max_pass_tokens = max_pass_tokens;
  options.precision = spec.precision;
  Embedder embedder = Embedder::from_model(std::move(file), options);
  embedder.pack_weights();
  const std::string_view warm_up[] = {"warm up"};
  embedder.embed(warm_up);
  // An unloaded model's packed weights and workspace go back to the system
  // when its last user lets go, not to malloc's free lists.
  std::shared_ptr<LoadedModel> model(new LoadedModel(spec, id, std::move(embedder), metrics), [](LoadedModel* m) {
    delete m;
    malloc_trim(0);
  });
  model->load_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  model->loaded_at_ =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return model;
}

ModelInfo LoadedModel::info(bool is_default) const {
  ModelInfo info;
  info.name = spec_.name;
  info.path = spec_.path.string();
  info.is_default = is_default;
  info.config = embedder_.config();
  info.precision = spec_.precision;
  info.products = embedder_.products();
  info.kernel = embedder_.kernel();
  info.limits = spec_.limits;
  info.load_ms = load_ms_;
  info.memory_bytes = embedder_.memory_bytes();
  info.loaded_at = loaded_at_;
  return info;
}

prometheus::LabelValues LoadedModel::info_labels() const {
  return {spec_.name, std::string(dtype_name(embedder_.config().dtype)), std::string(embedder_.products())};
}

}  // namespace arrowembed::service

#include "service/service_metrics.h"

namespace arrowembed::service {

void ServiceMetrics::render(std::string& out) const {
  cache_hits.render(out);
  cache_misses.render(out);
  inputs.render(out);
  tokens.render(out);
  cache_entries.render(out);
  queue_size.render(out);
  model_memory.render(out);
  model_info.render(out);
  model_loads.render(out);
  batch_size.render(out);
  batch_tokens.render(out);
  inference_duration.render(out);
}

}  // namespace arrowembed::service

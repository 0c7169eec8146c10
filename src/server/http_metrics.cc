#include "server/service_metrics.h"

#include <unistd.h>

#include <fstream>

namespace arrowembed::server {

size_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string ServiceMetrics::render() {
  memory.set(static_cast<double>(resident_memory_bytes()));
  std::string out;
  out.reserve(8192);
  request_duration.render(out);
  requests.render(out);
  errors.render(out);
  cache_hits.render(out);
  cache_misses.render(out);
  inputs.render(out);
  tokens.render(out);
  memory.render(out);
  cache_entries.render(out);
  queue_size.render(out);
  batch_size.render(out);
  batch_tokens.render(out);
  inference_duration.render(out);
  return out;
}

}  // namespace arrowembed::server

#include "server/http_metrics.h"

#include <unistd.h>

#include <fstream>

namespace arrowembed::server {

size_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void HttpMetrics::render(std::string& out) {
  memory.set(static_cast<double>(resident_memory_bytes()));
  request_duration.render(out);
  requests.render(out);
  errors.render(out);
  memory.render(out);
}

}  // namespace arrowembed::server

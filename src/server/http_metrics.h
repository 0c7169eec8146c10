#pragma once
// The HTTP layer's own metrics (requests, errors and their time, by
// endpoint) and the process's memory; /metrics renders them before the
// service's per-model ones.
#include <string>

#include "service/prometheus.h"

namespace arrowembed::server {

struct HttpMetrics {
  prometheus::HistogramFamily request_duration{
      "embedding_request_duration_seconds", "Time from request parsed to response ready, by endpoint",
      {"endpoint"}, {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  prometheus::CounterFamily requests{"embedding_request_total", "Requests answered, by endpoint and status",
                                     {"endpoint", "status"}};
  prometheus::CounterFamily errors{"embedding_errors_total", "Requests answered with a 4xx or 5xx status",
                                   {"endpoint", "status"}};
  prometheus::Gauge memory{"embedding_memory_usage_bytes", "Resident memory of the server process"};

  // Refreshes memory and renders these.
  void render(std::string& out);
};

// Resident set size of this process from /proc/self/statm (0 if unreadable).
size_t resident_memory_bytes();

}  // namespace arrowembed::server

#pragma once
// Every metric /metrics exposes, by name. Routes count requests and errors,
// the service counts cache hits and inputs, the batcher reports queue and
// batch figures; render() adds the process's resident memory at scrape time.
#include <string>

#include "server/prometheus.h"

namespace arrowembed::server {

struct ServiceMetrics {
  prometheus::HistogramFamily request_duration{
      "embedding_request_duration_seconds", "Time from request parsed to response ready, by endpoint",
      {"endpoint"}, {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  prometheus::CounterFamily requests{"embedding_request_total", "Requests answered, by endpoint and status",
                                     {"endpoint", "status"}};
  prometheus::CounterFamily errors{"embedding_errors_total", "Requests answered with a 4xx or 5xx status",
                                   {"endpoint", "status"}};
  prometheus::CounterFamily cache_hits{"embedding_cache_hits_total", "Inputs answered from the embedding cache", {}};
  prometheus::CounterFamily cache_misses{"embedding_cache_misses_total", "Inputs not found in the embedding cache", {}};
  prometheus::CounterFamily inputs{"embedding_inputs_total", "Texts embedded (cached or not)", {}};
  prometheus::CounterFamily tokens{"embedding_tokens_total", "Tokens of the texts embedded, with [CLS] and [SEP]", {}};
  prometheus::Gauge memory{"embedding_memory_usage_bytes", "Resident memory of the server process"};
  prometheus::Gauge cache_entries{"embedding_cache_entries", "Embeddings held by the cache"};
  prometheus::Gauge queue_size{"embedding_queue_size", "Inputs waiting for the engine"};
  prometheus::HistogramFamily batch_size{"embedding_batch_size", "Inputs per engine batch", {},
                                         {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
  prometheus::HistogramFamily batch_tokens{"embedding_batch_tokens", "Tokens per engine batch", {},
                                           {16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536}};
  prometheus::HistogramFamily inference_duration{
      "embedding_inference_duration_seconds", "Time of one engine batch", {},
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};

  std::string render();
};

// Resident set size of this process from /proc/self/statm (0 if unreadable).
size_t resident_memory_bytes();

}  // namespace arrowembed::server

#pragma once
// The service's own metrics, each per-model series labelled `model`: cache
// hits and misses, inputs, tokens, queue depth, batch sizes and times, the
// memory each model holds. Front ends render them beside theirs.
#include <string>

#include "service/prometheus.h"

namespace arrowembed::service {

class ServiceMetrics {
 public:
  prometheus::CounterFamily cache_hits{"embedding_cache_hits_total", "Inputs answered from the embedding cache",
                                       {"model"}};
  prometheus::CounterFamily cache_misses{"embedding_cache_misses_total", "Inputs not found in the embedding cache",
                                         {"model"}};
  prometheus::CounterFamily inputs{"embedding_inputs_total", "Texts embedded (cached or not)", {"model"}};
  prometheus::CounterFamily tokens{"embedding_tokens_total", "Tokens of the texts embedded, with [CLS] and [SEP]",
                                   {"model"}};
  prometheus::Gauge cache_entries{"embedding_cache_entries", "Embeddings held by the cache (all models)"};
  prometheus::GaugeFamily queue_size{"embedding_queue_size", "Inputs waiting for the engine", {"model"}};
  prometheus::GaugeFamily model_memory{"embedding_model_memory_bytes",
                                       "Memory a model holds: its file, packed weights and workspace", {"model"}};
  prometheus::GaugeFamily model_info{"embedding_model_info", "The models served (value 1), with their settings",
                                     {"model", "dtype", "precision"}};
  prometheus::CounterFamily model_loads{"embedding_model_loads_total", "Model loads and unloads, by result",
                                        {"model", "result"}};
  prometheus::HistogramFamily batch_size{"embedding_batch_size", "Inputs per engine batch", {"model"},
                                         {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
  prometheus::HistogramFamily batch_tokens{"embedding_batch_tokens", "Tokens per engine batch", {"model"},
                                           {16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536}};
  prometheus::HistogramFamily inference_duration{
      "embedding_inference_duration_seconds", "Time of one engine batch", {"model"},
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};

  void render(std::string& out) const;
};

}  // namespace arrowembed::service

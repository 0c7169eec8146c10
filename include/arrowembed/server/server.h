#pragma once
// The HTTP embedding service: TEI- and OpenAI-compatible routes over one
// model file, with dynamic batching, an embedding cache, Prometheus metrics
// and one JSON log line per request. See docs/api.md for the routes and
// docs/operations.md for running it.
//
//   arrowembed::ServerOptions options;
//   options.model_path = "minilm-f16.arrow";
//   return arrowembed::run_server(options);  // until SIGTERM / SIGINT
#include <cstddef>
#include <string>

#include "arrowembed/engine/precision.h"

namespace arrowembed {

struct ServerOptions {
  std::string model_path;
  // Name reported by /info and in OpenAI responses; empty means the file stem.
  std::string model_id;
  std::string host = "127.0.0.1";
  int port = 8080;

  size_t engine_threads = 0;  // forward-pass threads; 0 = one per core
  MatmulPrecision precision = MatmulPrecision::F32;  // of the engine's matrix products
  // Connections served at once (each keep-alive connection holds one).
  size_t http_threads = 128;

  // Dynamic batching: inputs of concurrent requests are coalesced into one
  // engine call of at most this many tokens...
  size_t max_batch_tokens = 16384;
  // ...waiting at most this long for more inputs once the engine is free
  // (0: run as soon as it is free; inputs that arrive meanwhile form the next batch).
  double max_batch_wait_ms = 0;
  // Inputs waiting for the engine; a request that does not fit gets 429.
  size_t max_queue_inputs = 16384;

  size_t max_inputs_per_request = 4096;
  size_t max_payload_bytes = 16u << 20;
  // Default of the requests' `truncate` field: cut long inputs at the
  // model's max_seq_length instead of answering 422.
  bool auto_truncate = false;

  size_t cache_entries = 16384;  // LRU embedding cache; 0 disables it

  std::string api_key;            // non-empty: require "Authorization: Bearer <key>"
  std::string cors_allow_origin;  // "*", or a comma-separated list of origins; empty: no CORS

  bool log_requests = true;  // one JSON line per request on stderr
};

// Listens, loads the model, serves until SIGTERM or SIGINT, then finishes
// the requests in flight. Returns the process exit code; throws Error when
// it cannot listen or load the model.
int run_server(const ServerOptions& options);

}  // namespace arrowembed

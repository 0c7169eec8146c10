#pragma once
// The HTTP embedding service: TEI- and OpenAI-compatible routes over one or
// several models, with dynamic batching, an embedding cache, Prometheus
// metrics, one JSON log line per request, and (with an admin key) models
// loaded, swapped and unloaded while it serves. See docs/api.md for the
// routes and docs/operations.md for running it.
//
//   arrowembed::ServerOptions options;
//   options.models.push_back({.name = "minilm", .path = "minilm-f16.arrow"});
//   return arrowembed::run_server(options);  // until SIGTERM / SIGINT
#include <cstddef>
#include <string>
#include <vector>

#include "arrowembed/engine/precision.h"
#include "arrowembed/service/embedding_service.h"
#include "arrowembed/service/model_spec.h"

namespace arrowembed {

struct ServerOptions {
  // The models served: named ones (the first, or the one marked, is the
  // default), or those of `models_config` (a file SIGHUP re-reads), not both.
  std::vector<service::ModelSpec> models;
  std::string models_config;
  // With one model whose name the user did not choose (`serve -m PATH`), any
  // model name a request gives selects it, as OpenAI clients that always
  // send one expect; with named models, names are checked.
  bool any_name_selects_default = false;
  // Collections served for search (POST /search, the search tool), each
  // searched with the served model that made it.
  std::vector<service::CollectionSpec> collections;

  std::string host = "127.0.0.1";
  int port = 8080;

  size_t engine_threads = 0;  // forward-pass threads shared by every model; 0 = one per core
  // Connections served at once (each keep-alive connection holds one).
  size_t http_threads = 128;

  // Per-model batching limits and defaults, for models that do not set
  // their own (a models config entry may).
  service::ModelLimits limits;

  size_t max_inputs_per_request = 4096;
  size_t max_payload_bytes = 16u << 20;

  size_t cache_entries = 16384;  // one LRU embedding cache for every model; 0 disables it

  std::string api_key;            // non-empty: require "Authorization: Bearer <key>"
  std::string admin_key;          // non-empty: enable /admin routes, with "Authorization: Bearer <admin key>"
  std::string cors_allow_origin;  // "*", or a comma-separated list of origins; empty: no CORS

  bool log_requests = true;  // one JSON line per request on stderr
};

// Listens, loads the models, serves until SIGTERM or SIGINT (SIGHUP
// re-reads models_config), then finishes the requests in flight. Returns
// the process exit code; throws Error when it cannot listen or load a model.
int run_server(const ServerOptions& options);

}  // namespace arrowembed

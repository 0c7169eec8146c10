#pragma once
// What every route shares: the options, the model service (null until the
// model is loaded), metrics and the logger.
#include <atomic>
#include <memory>
#include <string>

#include "arrowembed/server/server.h"
#include "server/api_requests.h"
#include "server/embedding_service.h"
#include "server/request_log.h"
#include "server/service_metrics.h"

namespace httplib {
class Server;
}

namespace arrowembed::server {

struct ServerState {
  ServerOptions options;
  std::string model_id;
  ServiceMetrics metrics;
  Logger logger;
  std::unique_ptr<EmbeddingService> service;  // set once, before `ready`
  std::atomic<bool> ready{false};
  RequestLimits limits;
  double load_ms = 0;

  explicit ServerState(const ServerOptions& o) : options(o), logger(true) {}
  // The service, or ApiError 503 while the model is still loading.
  const EmbeddingService& require_service() const;
};

// Registers every API route on `http`.
void register_routes(httplib::Server& http, ServerState& state);

}  // namespace arrowembed::server

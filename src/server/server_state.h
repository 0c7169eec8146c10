#pragma once
// What every route shares: the options, the service (its models load after
// the server listens), the HTTP metrics and the logger; and the route
// table's answers for the wiring in http_server.cc.
#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "arrowembed/mcp/mcp_server.h"
#include "arrowembed/server/server.h"
#include "arrowembed/service/embedding_service.h"
#include "arrowembed/tool/embedding_tool.h"
#include "server/http_metrics.h"
#include "server/request_log.h"

namespace httplib {
class Server;
}

namespace arrowembed::server {

struct ServerState {
  ServerOptions options;
  HttpMetrics metrics;
  Logger logger;
  std::unique_ptr<service::EmbeddingService> service;
  // Made once the models (and collections) are loaded, before `ready`.
  std::unique_ptr<tool::EmbeddingTool> tool;
  std::unique_ptr<mcp::McpServer> mcp;
  std::atomic<bool> ready{false};  // the first models are loaded

  explicit ServerState(const ServerOptions& o);
  // The service, or ServiceError Unavailable while the models are loading.
  const service::EmbeddingService& require_ready() const;
};

// Registers every route of the table on `http`.
void register_routes(httplib::Server& http, ServerState& state);

// From the route table: the methods a path is served with ("GET",
// "PUT, DELETE"), empty for a path no route serves...
std::string route_methods(const std::string& path);
// ...its metrics label (the route's path; "other" for unknown paths, so
// that random paths cannot grow the series without bound)...
std::string endpoint_label(const std::string& path);
// ...whether errors take OpenAI's shape, and whether it is an admin route.
bool is_openai_route(const std::string& path);
bool is_admin_route(const std::string& path);

}  // namespace arrowembed::server

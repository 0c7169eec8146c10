// run_server: cpp-httplib wiring around the routes — request ids, auth,
// CORS, error bodies in the route's API style (the one place where the
// service's error kinds become HTTP statuses), metrics and logs per
// request, the models loaded while already listening, SIGHUP reloading the
// models config, and SIGTERM draining.
#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "arrowembed/error.h"
#include "arrowembed/server/server.h"
#include "arrowembed/service/service_error.h"
#include "arrowembed/version.h"
#include "server/api_error.h"
#include "server/auth.h"
#include "server/server_state.h"

namespace arrowembed::server {

namespace {

using service::ErrorKind;
using service::ServiceError;

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Malformed: return 400;
    case ErrorKind::InvalidInput: return 422;
    case ErrorKind::TooLong: return 422;
    case ErrorKind::Overloaded: return 429;
    case ErrorKind::ModelNotFound: return 404;
    case ErrorKind::CollectionNotFound: return 404;
    case ErrorKind::Conflict: return 409;
    case ErrorKind::Unavailable: return 503;
    case ErrorKind::Internal: return 500;
  }
  return 500;
}

std::string error_type(int status) {
  switch (status) {
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 405: return "MethodNotAllowed";
    case 413: return "PayloadTooLarge";
    case 429: return "Overloaded";
    case 503: return "Unhealthy";
    default: return status >= 500 ? "Backend" : "Validation";
  }
}

// TEI's error shape {"error", "error_type"}, or OpenAI's {"error": {"message", "type", "param", "code"}}.
// `code` is OpenAI's error code (model_not_found), null when empty.
void set_error(const httplib::Request& req, httplib::Response& res, int status, const std::string& message,
               const std::string& field = {}, const std::string& code = {}, double retry_after_s = 0) {
  res.status = status;
  nlohmann::json body;
  if (is_openai_route(req.path)) {
    const char* type = status == 401 || status == 403 ? "authentication_error"
                       : status == 429 ? "rate_limit_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    body["error"] = {{"message", message},
                     {"type", type},
                     {"param", field.empty() ? nlohmann::json() : nlohmann::json(field)},
                     {"code", code.empty() ? nlohmann::json() : nlohmann::json(code)}};
  } else {
    body = {{"error", message}, {"error_type", error_type(status)}};
  }
  if (status == 429 || status == 503) {
    res.set_header("Retry-After", std::to_string(std::max(1, static_cast<int>(std::ceil(retry_after_s)))));
  }
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Control characters and non-ASCII bytes of a path become '?', so a log line stays valid JSON.
std::string printable_path(const std::string& path) {
  std::string out = path.substr(0, 256);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

void apply_cors(const ServerOptions& options, const httplib::Request& req, httplib::Response& res) {
  if (options.cors_allow_origin.empty()) return;
  const std::string origin = req.get_header_value("Origin");
  std::string allowed;
  if (options.cors_allow_origin == "*") {
    allowed = "*";
  } else if (!origin.empty()) {
    if (origin_allowed(options.cors_allow_origin, origin)) allowed = origin;
    res.set_header("Vary", "Origin");
  }
  if (allowed.empty()) return;
  res.set_header("Access-Control-Allow-Origin", allowed);
  res.set_header("Access-Control-Expose-Headers", "X-Request-Id, X-Total-Tokens, Retry-After");
}

void configure(httplib::Server& http, ServerState& state) {
  const ServerOptions& options = state.options;
  const size_t threads = std::max<size_t>(options.http_threads, 1);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(1u << 20);  // the default (5) would reconnect every 5 requests
  http.set_payload_max_length(options.max_payload_bytes);

  http.set_pre_routing_handler([&state](const httplib::Request& req, httplib::Response& res) {
    RequestRecord& record = current_request();
    record = RequestRecord{};
    record.start = std::chrono::steady_clock::now();
    record.id = make_request_id(req.get_header_value("X-Request-Id"));
    res.set_header("X-Request-Id", record.id);
    apply_cors(state.options, req, res);
    if (req.method == "OPTIONS") {  // CORS preflight: no auth, no body
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-Id, MCP-Protocol-Version, Mcp-Session-Id");
      res.set_header("Access-Control-Max-Age", "600");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Admin routes take the admin key instead (routes.cc checks it).
    const std::string& key = state.options.api_key;
    if (!key.empty() && req.path != "/health" && !is_admin_route(req.path)) {
      if (!bearer_key_matches(req, key)) {
        res.set_header("WWW-Authenticate", "Bearer");
        set_error(req, res, 401, "a valid API key is required: send 'Authorization: Bearer <key>'");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ServiceError& e) {
      set_error(req, res, http_status(e.kind()), e.what(), e.field(),
                e.kind() == ErrorKind::ModelNotFound ? "model_not_found" : "", e.retry_after_s());
    } catch (const ApiError& e) {
      set_error(req, res, e.status(), e.what(), e.field());
    } catch (const std::bad_alloc&) {
      set_error(req, res, 503, "out of memory for this request");
    } catch (const std::exception& e) {
      set_error(req, res, 500, std::string("internal error: ") + e.what());
    }
  });

  // Errors cpp-httplib produces itself (404, 413, 400 for a bad request line) come without a body.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    // cpp-httplib answers 404 for a served path with another method.
    if (const std::string allowed = route_methods(req.path); res.status == 404 && !allowed.empty()) {
      res.status = 405;
      res.set_header("Allow", allowed);
    }
    const std::string message = res.status == 404   ? "no route " + printable_path(req.path)
                                : res.status == 413 ? "the request body is larger than the server's limit"
                                : res.status == 405 ? printable_path(req.path) + " takes " + res.get_header_value("Allow")
                                                    : "bad request";
    set_error(req, res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  }));

  http.set_logger([&state](const httplib::Request& req, const httplib::Response& res) {
    const RequestRecord& record = current_request();
    const std::string endpoint = endpoint_label(req.path);
    const std::string status = std::to_string(res.status);
    state.metrics.requests.add({endpoint, status});
    if (res.status >= 400) state.metrics.errors.add({endpoint, status});
    state.metrics.request_duration.observe(
        {endpoint}, std::chrono::duration<double>(std::chrono::steady_clock::now() - record.start).count());
    state.logger.request(req.method, printable_path(req.path), res.status, req.remote_addr, record);
  });
}

}  // namespace

}  // namespace arrowembed::server

namespace arrowembed::server {

namespace {

// The models a server starts with: the config file's, or the options'.
std::vector<service::ModelSpec> initial_models(const ServerOptions& options) {
  if (!options.models_config.empty()) {
    if (!options.models.empty()) throw Error("give models either with --model or with --models-config, not both");
    return service::read_models_config(options.models_config, options.limits);
  }
  std::vector<service::ModelSpec> specs = options.models;
  service::check_model_specs(specs);
  return specs;
}

// SIGHUP: the config file again. New models are loaded, changed ones
// (path, precision, limits) reloaded, removed ones unloaded; a file that
// cannot be read changes nothing. Each model's load is its own swap.
void reload_models_config(ServerState& state) {
  std::vector<service::ModelSpec> specs;
  try {
    specs = service::read_models_config(state.options.models_config, state.options.limits);
  } catch (const Error& e) {
    state.logger.event("error", "models config not reloaded", json_fields({{"error", e.what()}}));
    return;
  }
  service::EmbeddingService& svc = *state.service;
  const std::vector<service::ModelInfo> served = svc.models();
  auto same = [](const service::ModelSpec& s, const service::ModelInfo& m) {
    return s.path.string() == m.path && s.precision == m.precision &&
           s.limits.max_batch_tokens == m.limits.max_batch_tokens &&
           s.limits.max_batch_wait_ms == m.limits.max_batch_wait_ms &&
           s.limits.max_queue_inputs == m.limits.max_queue_inputs &&
           s.limits.auto_truncate == m.limits.auto_truncate;
  };
  // The new default first, so that the old one can then be unloaded.
  std::stable_partition(specs.begin(), specs.end(), [](const auto& s) { return s.is_default; });
  for (const service::ModelSpec& spec : specs) {
    const auto it = std::find_if(served.begin(), served.end(), [&](const auto& m) { return m.name == spec.name; });
    if (it != served.end() && same(spec, *it) && it->is_default == spec.is_default) continue;
    try {
      const service::LoadResult r = svc.load(spec);
      state.logger.event("info", r.replaced ? "model replaced" : "model loaded",
                         json_fields({{"model", spec.name}, {"path", spec.path.string()}, {"load_ms", r.model.load_ms}}));
    } catch (const Error& e) {
      state.logger.event("error", "model not loaded", json_fields({{"model", spec.name}, {"error", e.what()}}));
    }
  }
  for (const service::ModelInfo& m : served) {
    if (std::none_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == m.name; })) {
      try {
        svc.unload(m.name);
        state.logger.event("info", "model unloaded", json_fields({{"model", m.name}}));
      } catch (const Error& e) {
        state.logger.event("error", "model not unloaded", json_fields({{"model", m.name}, {"error", e.what()}}));
      }
    }
  }
}

}  // namespace

}  // namespace arrowembed::server

namespace arrowembed {

int run_server(const ServerOptions& options) {
  using server::ServerState;
  // Every thread started from here on inherits the blocked signals; this
  // thread takes SIGTERM/SIGINT/SIGHUP with sigwait once the models are up.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server

  const std::vector<service::ModelSpec> specs = server::initial_models(options);
  for (const service::ModelSpec& spec : specs) {
    if (spec.limits.max_queue_inputs < options.max_inputs_per_request) {
      throw Error("model '" + spec.name + "': --max-queue-inputs must be at least --max-inputs-per-request (" +
                  std::to_string(spec.limits.max_queue_inputs) + " < " +
                  std::to_string(options.max_inputs_per_request) + ")");
    }
  }
  auto state = std::make_unique<ServerState>(options);
  service::ServiceOptions service_options;
  service_options.engine_threads = options.engine_threads;
  service_options.cache_entries = options.cache_entries;
  service_options.max_inputs_per_request = options.max_inputs_per_request;
  service_options.any_name_selects_default = options.any_name_selects_default && specs.size() == 1;
  state->service = std::make_unique<service::EmbeddingService>(service_options);

  httplib::Server http;
  server::configure(http, *state);
  server::register_routes(http, *state);
  // cpp-httplib's default socket options set SO_REUSEPORT, which would let
  // a second server share the port silently; SO_REUSEADDR alone still
  // allows a quick restart. The descriptor is kept to widen the backlog.
  int listen_fd = -1;
  http.set_socket_options([&listen_fd](int sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  int port = options.port;
  if (port == 0) {
    port = http.bind_to_any_port(options.host);
  } else if (!http.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    throw Error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                " (address in use, or not permitted)");
  }
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of new
  // connections would wait a second for SYN retries. listen() again only
  // raises the backlog of the bound socket.
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  std::atomic<bool> listener_done{false};
  std::thread listener([&http, &listener_done] {
    http.listen_after_bind();
    listener_done = true;
  });
  // stop() is a no-op until the listener runs: wait for one or the other,
  // so a stop that comes early (a model that fails to load) is not lost.
  auto stop_listener = [&] {
    while (!http.is_running() && !listener_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http.stop();
    listener.join();
  };
  state->logger.event("info", "listening", server::json_fields({{"host", options.host}, {"port", port}}));

  // Log lines wait until the server is ready: a client that reads "model
  // loaded" may send its first request at once.
  std::vector<std::string> loaded;
  try {
    for (const service::ModelSpec& spec : specs) {
      const service::LoadResult r = state->service->load(spec);
      const ModelConfig& c = r.model.config;
      loaded.push_back(server::json_fields({{"model_id", spec.name},
                                            {"path", spec.path.string()},
                                            {"dtype", std::string(dtype_name(c.dtype))},
                                            {"dimensions", c.hidden_size},
                                            {"load_ms", r.model.load_ms},
                                            {"precision", r.model.products},
                                            {"kernel", r.model.kernel},
                                            {"memory_bytes", r.model.memory_bytes},
                                            {"engine_threads", state->service->engine_threads()}}));
    }
    for (const service::CollectionSpec& c : options.collections) {
      state->service->attach_collection(c);
      state->logger.event("info", "collection attached",
                          server::json_fields({{"collection", c.name}, {"path", c.path.string()}}));
    }
    state->tool = std::make_unique<tool::EmbeddingTool>(*state->service);
    state->mcp = std::make_unique<mcp::McpServer>(state->tool->registry(), "arrowembed", ARROWEMBED_VERSION,
                                                  mcp::kDefaultInstructions);
    state->ready.store(true, std::memory_order_release);
  } catch (...) {
    stop_listener();
    throw;
  }
  for (const std::string& fields : loaded) state->logger.event("info", "model loaded", fields);

  int signal = 0;
  for (;;) {
    sigwait(&signals, &signal);
    if (signal != SIGHUP) break;
    if (options.models_config.empty()) {
      state->logger.event("info", "SIGHUP ignored: no --models-config to re-read");
      continue;
    }
    state->logger.event("info", "reloading models config", server::json_fields({{"path", options.models_config}}));
    server::reload_models_config(*state);
  }
  state->logger.event("info", "shutting down", server::json_fields({{"signal", strsignal(signal)}}));
  // stop() closes the listening socket; the connection threads finish the
  // requests they are serving before listen_after_bind() returns.
  state->ready.store(false);
  stop_listener();
  state->service->stop();
  state->logger.event("info", "stopped");
  return 0;
}

}  // namespace arrowembed

// run_server: cpp-httplib wiring around the routes — request ids, auth,
// CORS, error bodies in the route's API style, metrics and logs per request,
// the model loaded while already listening, and SIGTERM draining.
#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "arrowembed/error.h"
#include "arrowembed/server/server.h"
#include "server/api_error.h"
#include "server/server_state.h"

namespace arrowembed::server {

namespace {

constexpr const char* kGetRoutes[] = {"/health", "/info", "/metrics", "/openapi.json", "/docs"};
constexpr const char* kPostRoutes[] = {"/embed", "/similarity", "/tokenize", "/v1/embeddings", "/embeddings"};

// "GET" or "POST" for a served path, empty for any other.
std::string_view route_method(const std::string& path) {
  for (const char* route : kGetRoutes) {
    if (path == route) return "GET";
  }
  for (const char* route : kPostRoutes) {
    if (path == route) return "POST";
  }
  return {};
}

// The metrics label of a path: known routes by name, anything else "other"
// (so random 404 paths cannot grow the series without bound).
std::string endpoint_label(const std::string& path) { return route_method(path).empty() ? "other" : path; }

bool is_openai_route(const std::string& path) { return path == "/v1/embeddings" || path == "/embeddings"; }

// Compares in time that depends only on the length of the offered key, never
// on where it first differs from the secret.
bool constant_time_equal(std::string_view offered, std::string_view secret) {
  unsigned char diff = offered.size() != secret.size() || secret.empty();
  for (size_t i = 0; i < offered.size(); ++i) {
    diff |= static_cast<unsigned char>(offered[i] ^ (secret.empty() ? 0 : secret[i % secret.size()]));
  }
  return diff == 0;
}

std::string error_type(int status) {
  switch (status) {
    case 401: return "Unauthorized";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 413: return "PayloadTooLarge";
    case 429: return "Overloaded";
    case 503: return "Unhealthy";
    default: return status >= 500 ? "Backend" : "Validation";
  }
}

// TEI's error shape {"error", "error_type"}, or OpenAI's {"error": {"message", "type", "param", "code"}}.
void set_error(const httplib::Request& req, httplib::Response& res, int status, const std::string& message,
               const std::string& field = {}) {
  res.status = status;
  nlohmann::json body;
  if (is_openai_route(req.path)) {
    const char* type = status == 401   ? "authentication_error"
                       : status == 429 ? "rate_limit_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    body["error"] = {{"message", message},
                     {"type", type},
                     {"param", field.empty() ? nlohmann::json() : nlohmann::json(field)},
                     {"code", nlohmann::json()}};
  } else {
    body = {{"error", message}, {"error_type", error_type(status)}};
  }
  if (status == 429 || status == 503) res.set_header("Retry-After", "1");
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
    std::string_view list = options.cors_allow_origin;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item == origin) allowed = origin;
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
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
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-Id");
      res.set_header("Access-Control-Max-Age", "600");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string& key = state.options.api_key;
    if (!key.empty() && req.path != "/health") {
      const std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      const bool ok = auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
                      constant_time_equal(std::string_view(auth).substr(kBearer.size()), key);
      if (!ok) {
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
    } catch (const ApiError& e) {
      set_error(req, res, e.status(), e.what(), e.field());
    } catch (const Error& e) {
      set_error(req, res, 422, e.what());
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
    if (const std::string_view allowed = route_method(req.path); res.status == 404 && !allowed.empty()) {
      res.status = 405;
      res.set_header("Allow", std::string(allowed));
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

std::string json_fields(const nlohmann::json& fields) {
  const std::string s = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.substr(1, s.size() - 2);  // without the braces
}

}  // namespace

}  // namespace arrowembed::server

namespace arrowembed {

int run_server(const ServerOptions& options) {
  using server::ServerState;
  // Every thread started from here on inherits the blocked signals; this
  // thread takes SIGTERM/SIGINT with sigwait once the model is up.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server

  auto state = std::make_unique<ServerState>(options);
  state->logger = server::Logger(options.log_requests);
  state->model_id = options.model_id.empty() ? std::filesystem::path(options.model_path).stem().string()
                                             : options.model_id;
  state->limits.max_inputs = options.max_inputs_per_request;
  state->limits.auto_truncate = options.auto_truncate;
  if (options.max_queue_inputs < options.max_inputs_per_request) {
    throw Error("--max-queue-inputs must be at least --max-inputs-per-request");
  }

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

  try {
    const auto t0 = std::chrono::steady_clock::now();
    EmbedderOptions engine;
    engine.num_threads = options.engine_threads;
    engine.precision = options.precision;
    Embedder embedder = Embedder::load(options.model_path, engine);
    embedder.pack_weights();  // a server will run batches: not on its first request's time
    server::ServiceOptions service;
    service.batcher = {options.max_batch_tokens, options.max_batch_wait_ms, options.max_queue_inputs};
    service.cache_entries = options.cache_entries;
    state->limits.hidden_size = embedder.dimension();
    state->service = std::make_unique<server::EmbeddingService>(std::move(embedder), service, state->metrics);
    state->load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    state->ready.store(true, std::memory_order_release);
  } catch (...) {
    stop_listener();
    throw;
  }
  const ModelConfig& c = state->service->config();
  state->logger.event("info", "model loaded",
                      server::json_fields({{"model_id", state->model_id},
                                           {"path", options.model_path},
                                           {"dtype", std::string(dtype_name(c.dtype))},
                                           {"dimensions", c.hidden_size},
                                           {"load_ms", state->load_ms},
                                           {"precision", std::string(precision_name(options.precision))},
                                           {"engine_threads", state->service->embedder().num_threads()}}));

  int signal = 0;
  sigwait(&stop_signals, &signal);
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

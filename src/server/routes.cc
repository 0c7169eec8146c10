// The API routes: one table (method, path, handler) that registration, the
// 405 answers and the metrics labels all read. Each handler parses its body
// (api_requests), asks the service, and renders JSON (or an Arrow stream).
// Errors are thrown (ServiceError from the service and the parsers, ApiError
// for what only HTTP knows) and rendered by http_server.cc in the route's
// API style.
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "arrowembed/service/service_error.h"
#include "arrowembed/version.h"
#include "server/api_error.h"
#include "server/api_requests.h"
#include "server/auth.h"
#include "server/arrow_stream.h"
#include "server/json_text.h"
#include "server/openapi.h"
#include "server/server_state.h"
#include "service/service_metrics.h"

namespace arrowembed::server {

namespace {

using service::ErrorKind;
using service::ServiceError;

constexpr const char* kJson = "application/json";

bool wants_arrow(const httplib::Request& req) {
  return req.get_header_value("Accept").find(kArrowStreamMime) != std::string::npos;
}

void record(const service::Usage& usage) {
  RequestRecord& r = current_request();
  r.inputs += usage.inputs;
  r.tokens += usage.tokens;
  r.cache_hits += usage.cache_hits;
  r.queue_ms += usage.timing.queue_ms;
  r.inference_ms += usage.timing.inference_ms;
}

void send_arrow(httplib::Response& res, const service::Embeddings& out) {
  const std::string usage = "{\"prompt_tokens\":" + std::to_string(out.usage.tokens) + "}";
  res.set_content(embeddings_to_arrow_stream(out.values.data(), out.rows, out.dimension, usage), kArrowStreamMime);
  res.set_header("X-Total-Tokens", std::to_string(out.usage.tokens));
}

// Standard base64 of the floats' little-endian bytes, as OpenAI's encoding_format=base64.
void append_base64_floats(std::string& out, const float* values, size_t count) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* bytes = reinterpret_cast<const unsigned char*>(values);
  const size_t n = count * sizeof(float);
  out += '"';
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < n) {
    const uint32_t v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  out += '"';
}

// Code point index of each byte offset (offsets are at character
// boundaries), for clients that slice strings by character, as TEI does.
std::vector<uint32_t> char_index(const std::string& text) {
  std::vector<uint32_t> index(text.size() + 1, 0);
  for (size_t i = 0; i < text.size(); ++i) {
    const bool continuation = (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
    index[i + 1] = index[i] + (continuation ? 0 : 1);
  }
  return index;
}

using Req = const httplib::Request&;
using Res = httplib::Response&;

void handle_embed(ServerState& state, Req req, const std::string& body_in, Res res) {
  const EmbedBody b = parse_tei_embed(body_in);
  const service::Embeddings out = state.require_ready().embed(b.request);
  record(out.usage);
  if (wants_arrow(req)) return send_arrow(res, out);
  std::string body;
  body.reserve(out.rows * (out.dimension * 12 + 4) + 2);
  body += '[';
  for (size_t i = 0; i < out.rows; ++i) {
    if (i) body += ',';
    append_json_floats(body, out.values.data() + i * out.dimension, out.dimension);
  }
  body += ']';
  res.set_content(std::move(body), kJson);
}

void handle_openai_embeddings(ServerState& state, Req req, const std::string& body_in, Res res) {
  const EmbedBody b = parse_openai_embeddings(body_in);
  const service::Embeddings out = state.require_ready().embed(b.request);
  record(out.usage);
  if (wants_arrow(req)) return send_arrow(res, out);
  std::string body;
  body.reserve(out.rows * (out.dimension * 12 + 64) + 256);
  body += "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < out.rows; ++i) {
    if (i) body += ',';
    body += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
    const float* row = out.values.data() + i * out.dimension;
    if (b.base64) {
      append_base64_floats(body, row, out.dimension);
    } else {
      append_json_floats(body, row, out.dimension);
    }
    body += '}';
  }
  body += "],\"model\":";
  // The name asked for (a single-model server takes any), else the model's.
  append_json_string(body, b.request.model.empty() ? out.model : b.request.model);
  body += ",\"usage\":{\"prompt_tokens\":" + std::to_string(out.usage.tokens) +
          ",\"total_tokens\":" + std::to_string(out.usage.tokens) + "}}";
  res.set_content(std::move(body), kJson);
}

void handle_similarity(ServerState& state, Req, const std::string& body_in, Res res) {
  const service::Similarity out = state.require_ready().similarity(parse_similarity(body_in));
  record(out.usage);
  std::string body;
  append_json_floats(body, out.scores.data(), out.scores.size());
  res.set_content(std::move(body), kJson);
}

void handle_tokenize(ServerState& state, Req, const std::string& body_in, Res res) {
  const TokenizeBody b = parse_tokenize(body_in);
  const service::Tokenized out = state.require_ready().tokenize(b.request);
  std::string body = "[";
  size_t tokens = 0;
  for (size_t t = 0; t < out.texts.size(); ++t) {
    const std::vector<uint32_t> chars = char_index(b.request.texts[t]);
    if (t) body += ',';
    body += '[';
    bool first = true;
    for (const service::Token& token : out.texts[t]) {
      if (token.special && !b.add_special_tokens) continue;
      if (!first) body += ',';
      first = false;
      body += "{\"id\":" + std::to_string(token.id) + ",\"text\":";
      append_json_string(body, token.text);
      body += token.special ? ",\"special\":true,\"start\":null,\"stop\":null}"
                            : ",\"special\":false,\"start\":" + std::to_string(chars[token.start]) +
                                  ",\"stop\":" + std::to_string(chars[token.stop]) + "}";
      ++tokens;
    }
    body += ']';
  }
  body += ']';
  current_request().inputs = out.texts.size();
  current_request().tokens = tokens;
  res.set_content(std::move(body), kJson);
}

nlohmann::ordered_json limits_json(const service::ModelLimits& l) {
  return {{"max_batch_tokens", l.max_batch_tokens},
          {"max_batch_wait_ms", l.max_batch_wait_ms},
          {"max_queue_inputs", l.max_queue_inputs},
          {"auto_truncate", l.auto_truncate}};
}

// What a model is: the fields /info gives at its top level (for the default
// model) and in each entry of "models".
nlohmann::ordered_json model_facts(const service::ModelInfo& m) {
  const ModelConfig& c = m.config;
  return {{"architecture", c.architecture},
          {"dimensions", c.hidden_size},
          {"max_seq_length", c.max_seq_length},
          {"pooling", std::string(pooling_name(c.pooling))},
          {"normalize", c.normalize},
          {"dtype", std::string(dtype_name(c.dtype))},
          {"precision", m.products},
          {"kernel", m.kernel},
          {"load_ms", m.load_ms},
          {"memory_bytes", m.memory_bytes},
          {"loaded_at", m.loaded_at}};
}

nlohmann::ordered_json model_json(const service::ModelInfo& m) {
  nlohmann::ordered_json j = {{"name", m.name}, {"path", m.path}, {"default", m.is_default}};
  j.update(model_facts(m));
  j["limits"] = limits_json(m.limits);
  return j;
}

void handle_info(ServerState& state, Req, Res res) {
  const service::EmbeddingService& service = state.require_ready();
  const std::vector<service::ModelInfo> models = service.models();
  const auto def = std::find_if(models.begin(), models.end(), [](const auto& m) { return m.is_default; });
  if (def == models.end()) throw ServiceError(ErrorKind::Unavailable, "no model is loaded", {}, 1);
  const ServerOptions& o = state.options;
  nlohmann::ordered_json limits = limits_json(def->limits);
  limits["max_inputs_per_request"] = o.max_inputs_per_request;
  limits["max_payload_bytes"] = o.max_payload_bytes;
  // The top level describes the default model, as for a one-model server.
  nlohmann::ordered_json info = {{"model_id", def->name}, {"model_path", def->path}, {"version", ARROWEMBED_VERSION}};
  info.update(model_facts(*def));
  info["engine_threads"] = service.engine_threads();
  info["limits"] = limits;
  info["cache"] = {{"capacity", service.cache_capacity()}, {"entries", service.cache_entries()}};
  info["auth"] = !o.api_key.empty();
  info["admin"] = !o.admin_key.empty();
  info["models"] = nlohmann::ordered_json::array();
  for (const auto& m : models) info["models"].push_back(model_json(m));
  res.set_content(info.dump(), kJson);
}

// GET /v1/models, in OpenAI's list format.
void handle_list_models(ServerState& state, Req, Res res) {
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const auto& m : state.require_ready().models()) {
    data.push_back({{"id", m.name}, {"object", "model"}, {"created", m.loaded_at}, {"owned_by", "arrowembed"}});
  }
  res.set_content(nlohmann::ordered_json({{"object", "list"}, {"data", data}}).dump(), kJson);
}

void require_admin(const ServerState& state, Req req) {
  if (state.options.admin_key.empty()) {
    throw ApiError(403, "the admin routes are disabled: start the server with --admin-key");
  }
  if (!bearer_key_matches(req, state.options.admin_key)) {
    throw ApiError(401, "a valid admin key is required: send 'Authorization: Bearer <admin key>'");
  }
}

// PUT /admin/models/{name} {"path": ...}: load beside the served models, then swap in.
void handle_load_model(ServerState& state, Req req, const std::string& body_in, Res res) {
  require_admin(state, req);
  const std::string name = req.matches[1];
  const service::ModelSpec spec = service::read_model_entry(body_in, name, state.options.limits);
  state.require_ready();
  const service::LoadResult r = state.service->load(spec);
  nlohmann::ordered_json body = model_json(r.model);
  body["replaced"] = r.replaced;
  state.logger.event("info", r.replaced ? "model replaced" : "model loaded",
                     json_fields({{"model", r.model.name}, {"path", r.model.path}, {"load_ms", r.model.load_ms}}));
  res.set_content(body.dump(), kJson);
}

// DELETE /admin/models/{name}
void handle_unload_model(ServerState& state, Req req, const std::string&, Res res) {
  require_admin(state, req);
  const std::string name = req.matches[1];
  state.require_ready();
  state.service->unload(name);
  state.logger.event("info", "model unloaded", json_fields({{"model", name}}));
  res.set_content(nlohmann::ordered_json({{"name", name}, {"unloaded", true}}).dump(), kJson);
}

// POST /search: the best k documents of a collection for each query.
void handle_search(ServerState& state, Req, const std::string& body_in, Res res) {
  const service::SearchRequest r = parse_search(body_in);
  const service::SearchResult out = state.require_ready().search(r);
  record(out.usage);
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (size_t q = 0; q < out.hits.size(); ++q) {
    nlohmann::ordered_json hits = nlohmann::ordered_json::array();
    for (const collection::Hit& hit : out.hits[q]) {
      nlohmann::ordered_json h = {{"id", hit.id}, {"score", tool::json_float(hit.score)}, {"text", hit.text}};
      if (!hit.metadata.empty()) {
        nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
        for (const auto& [column, value] : hit.metadata) metadata[column] = value;
        h["metadata"] = std::move(metadata);
      }
      hits.push_back(std::move(h));
    }
    results.push_back({{"query", r.queries[q]}, {"hits", std::move(hits)}});
  }
  const nlohmann::ordered_json body = {{"collection", out.collection}, {"model", out.model}, {"results", results},
                                       {"usage", {{"prompt_tokens", out.usage.tokens}}}};
  res.set_content(body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), kJson);
}

// GET /collections
void handle_collections(ServerState& state, Req, Res res) {
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const auto& c : state.require_ready().collections()) {
    data.push_back({{"name", c.name},
                    {"path", c.path},
                    {"model", c.model},
                    {"size", c.size},
                    {"dimension", c.dimension},
                    {"dtype", c.dtype},
                    {"has_index", c.has_index},
                    {"metadata_columns", c.metadata_columns}});
  }
  res.set_content(nlohmann::ordered_json({{"collections", data}}).dump(), kJson);
}

// GET /tools: the tools in OpenAI's function-tool format, ready for a
// chat completion's `tools`.
void handle_tools(ServerState& state, Req, Res res) {
  state.require_ready();
  res.set_content(state.tool->get_schema().dump(), kJson);
}

// POST /mcp: the Model Context Protocol's Streamable HTTP transport, one
// JSON response per POST (no server-initiated streams: GET answers 405).
void handle_mcp(ServerState& state, Req req, const std::string& body, Res res) {
  state.require_ready();
  // DNS rebinding: a browser page may only reach us from an allowed origin.
  const std::string origin = req.get_header_value("Origin");
  if (!origin.empty() && !origin_allowed(state.options.cors_allow_origin, origin)) {
    throw ApiError(403, "origin " + origin + " may not use /mcp (see --cors-allow-origin)");
  }
  const std::string version = req.get_header_value("MCP-Protocol-Version");
  if (!version.empty() && !mcp::is_supported_protocol_version(version)) {
    throw ApiError(400, "MCP-Protocol-Version " + version + " is not supported");
  }
  const std::optional<std::string> response = state.mcp->handle(body);
  if (!response) {  // notifications and responses only
    res.status = 202;
    return;
  }
  res.set_content(*response, kJson);
}

void handle_health(ServerState& state, Req, Res res) {
  if (state.ready.load()) {
    res.set_content("{\"status\":\"ok\"}", kJson);
  } else {
    res.status = 503;
    res.set_header("Retry-After", "1");
    res.set_content("{\"status\":\"loading\"}", kJson);
  }
}

void handle_metrics(ServerState& state, Req, Res res) {
  std::string out;
  out.reserve(16384);
  state.metrics.render(out);
  if (state.service) {
    state.service->models();  // refreshes the per-model memory gauges
    state.service->metrics().render(out);
  }
  res.set_content(std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

// A route: its method, its path (a regex for routes with a parameter, which
// cpp-httplib matches whole) and its metrics label. Handlers without a body
// take GET; the others read the body themselves.
using Handler = void (*)(ServerState&, Req, Res);
using BodyHandler = void (*)(ServerState&, Req, const std::string&, Res);
struct Route {
  const char* method;
  const char* path;
  const char* label;
  Handler handler = nullptr;
  BodyHandler body_handler = nullptr;
};

const Route kRoutes[] = {
    {"GET", "/health", "/health", handle_health},
    {"GET", "/info", "/info", handle_info},
    {"GET", "/metrics", "/metrics", handle_metrics},
    {"GET", "/openapi.json", "/openapi.json",
     [](ServerState&, Req, Res res) { res.set_content(std::string(openapi_json()), kJson); }},
    {"GET", "/docs", "/docs",
     [](ServerState&, Req, Res res) { res.set_content(std::string(docs_html()), "text/html; charset=utf-8"); }},
    {"GET", "/v1/models", "/v1/models", handle_list_models},
    {"GET", "/tools", "/tools", handle_tools},
    {"GET", "/collections", "/collections", handle_collections},
    {"GET", "/models", "/models", handle_list_models},
    {"POST", "/embed", "/embed", nullptr, handle_embed},
    {"POST", "/v1/embeddings", "/v1/embeddings", nullptr, handle_openai_embeddings},
    {"POST", "/embeddings", "/embeddings", nullptr, handle_openai_embeddings},
    {"POST", "/similarity", "/similarity", nullptr, handle_similarity},
    {"POST", "/tokenize", "/tokenize", nullptr, handle_tokenize},
    {"POST", "/search", "/search", nullptr, handle_search},
    {"POST", "/mcp", "/mcp", nullptr, handle_mcp},
    {"PUT", R"(/admin/models/([^/]+))", "/admin/models", nullptr, handle_load_model},
    {"DELETE", R"(/admin/models/([^/]+))", "/admin/models", nullptr, handle_unload_model},
};

bool path_matches(const Route& route, const std::string& path) {
  if (std::string_view(route.path).find('(') == std::string_view::npos) return path == route.path;
  static const std::regex admin(R"(/admin/models/([^/]+))");  // the one parameterised path
  return std::regex_match(path, admin);
}

}  // namespace

std::string route_methods(const std::string& path) {
  std::string methods;
  for (const Route& r : kRoutes) {
    if (path_matches(r, path) && methods.find(r.method) == std::string::npos) {
      methods += (methods.empty() ? "" : ", ") + std::string(r.method);
    }
  }
  return methods;
}

std::string endpoint_label(const std::string& path) {
  for (const Route& r : kRoutes) {
    if (path_matches(r, path)) return r.label;
  }
  return "other";
}

bool is_openai_route(const std::string& path) {
  return path == "/v1/embeddings" || path == "/embeddings" || path == "/v1/models" || path == "/models";
}

bool is_admin_route(const std::string& path) { return path.rfind("/admin/", 0) == 0; }

void register_routes(httplib::Server& http, ServerState& state) {
  for (const Route& route : kRoutes) {
    if (route.handler) {
      http.Get(route.path, [&state, handler = route.handler](Req req, Res res) { handler(state, req, res); });
      continue;
    }
    // Bodies are read by the route itself: cpp-httplib would otherwise parse
    // a body sent as application/x-www-form-urlencoded (curl -d's default)
    // as a form, with its own 8 KiB limit. The payload limit applies.
    auto with_body = [&state, handler = route.body_handler](Req req, Res res, const httplib::ContentReader& reader) {
      std::string body;
      const bool complete = reader([&body](const char* data, size_t n) {
        body.append(data, n);
        return true;
      });
      if (!complete) {  // cpp-httplib set 413 for a body over the limit
        if (res.status == 413) throw ApiError(413, "the request body is larger than the server's limit");
        throw ApiError(400, "the request body could not be read");
      }
      handler(state, req, body, res);
    };
    const std::string method = route.method;
    if (method == "POST") {
      http.Post(route.path, with_body);
    } else if (method == "PUT") {
      http.Put(route.path, with_body);
    } else {
      http.Delete(route.path, with_body);
    }
  }
}

ServerState::ServerState(const ServerOptions& o) : options(o), logger(o.log_requests) {}

const service::EmbeddingService& ServerState::require_ready() const {
  if (!ready.load(std::memory_order_acquire)) {
    throw ServiceError(ErrorKind::Unavailable, "the model is still loading", {}, 1);
  }
  return *service;
}

}  // namespace arrowembed::server

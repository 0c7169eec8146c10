// The API routes: each parses its body (api_requests), asks the service,
// and renders JSON (or an Arrow stream). Errors are thrown as ApiError and
// rendered by the exception handler in http_server.cc in the route's style.
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "arrowembed/version.h"
#include "server/api_error.h"
#include "server/arrow_stream.h"
#include "server/json_text.h"
#include "server/openapi.h"
#include "server/server_state.h"

namespace arrowembed::server {

namespace {

constexpr const char* kJson = "application/json";

bool wants_arrow(const httplib::Request& req) {
  return req.get_header_value("Accept").find(kArrowStreamMime) != std::string::npos;
}

void record(const EmbedOutput& out) {
  RequestRecord& r = current_request();
  r.inputs += out.rows;
  r.tokens += out.tokens;
  r.cache_hits += out.cache_hits;
  r.queue_ms += out.timing.queue_ms;
  r.inference_ms += out.timing.inference_ms;
}

void send_arrow(httplib::Response& res, const EmbedOutput& out) {
  const std::string usage = "{\"prompt_tokens\":" + std::to_string(out.tokens) + "}";
  res.set_content(embeddings_to_arrow_stream(out.values.data(), out.rows, out.dimension, usage), kArrowStreamMime);
  res.set_header("X-Total-Tokens", std::to_string(out.tokens));
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

void handle_embed(const ServerState& state, const httplib::Request& req, const std::string& body_in,
                  httplib::Response& res) {
  const EmbeddingService& service = state.require_service();
  const EmbedRequest r = parse_tei_embed(body_in, state.limits);
  const EmbedOutput out = service.embed(r.inputs, r.truncate, r.normalize, r.dimensions, list_field("inputs", r.single));
  record(out);
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

void handle_openai_embeddings(const ServerState& state, const httplib::Request& req, const std::string& body_in,
                              httplib::Response& res) {
  const EmbeddingService& service = state.require_service();
  const EmbedRequest r = parse_openai_embeddings(body_in, state.limits);
  const EmbedOutput out = service.embed(r.inputs, r.truncate, r.normalize, r.dimensions, list_field("input", r.single));
  record(out);
  if (wants_arrow(req)) return send_arrow(res, out);
  std::string body;
  body.reserve(out.rows * (out.dimension * 12 + 64) + 256);
  body += "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < out.rows; ++i) {
    if (i) body += ',';
    body += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
    const float* row = out.values.data() + i * out.dimension;
    if (r.base64) {
      append_base64_floats(body, row, out.dimension);
    } else {
      append_json_floats(body, row, out.dimension);
    }
    body += '}';
  }
  body += "],\"model\":";
  append_json_string(body, r.model.empty() ? state.model_id : r.model);
  body += ",\"usage\":{\"prompt_tokens\":" + std::to_string(out.tokens) +
          ",\"total_tokens\":" + std::to_string(out.tokens) + "}}";
  res.set_content(std::move(body), kJson);
}

void handle_similarity(const ServerState& state, const httplib::Request& req, const std::string& body_in,
                       httplib::Response& res) {
  const EmbeddingService& service = state.require_service();
  const SimilarityRequest r = parse_similarity(body_in, state.limits);
  std::vector<std::string> texts;
  FieldNamer field_of;  // where each flattened text came from in the request
  if (r.source) {
    texts.push_back(*r.source);
    texts.insert(texts.end(), r.sentences.begin(), r.sentences.end());
    field_of = [](size_t i) {
      return i == 0 ? std::string("inputs.source_sentence") : "inputs.sentences[" + std::to_string(i - 1) + "]";
    };
  } else {
    for (const auto& [a, b] : r.pairs) {
      texts.push_back(a);
      texts.push_back(b);
    }
    field_of = [](size_t i) { return "pairs[" + std::to_string(i / 2) + "][" + std::to_string(i % 2) + "]"; };
  }
  // Normalised vectors: cosine similarity is their dot product.
  const EmbedOutput out = service.embed(texts, r.truncate, true, std::nullopt, field_of);
  record(out);
  auto dot = [&](size_t a, size_t b) {
    const float* x = out.values.data() + a * out.dimension;
    const float* y = out.values.data() + b * out.dimension;
    double s = 0;
    for (size_t i = 0; i < out.dimension; ++i) s += static_cast<double>(x[i]) * y[i];
    return static_cast<float>(s);
  };
  std::vector<float> scores;
  if (r.source) {
    for (size_t i = 1; i < texts.size(); ++i) scores.push_back(dot(0, i));
  } else {
    for (size_t i = 0; i < r.pairs.size(); ++i) scores.push_back(dot(2 * i, 2 * i + 1));
  }
  std::string body;
  append_json_floats(body, scores.data(), scores.size());
  res.set_content(std::move(body), kJson);
}

void handle_tokenize(const ServerState& state, const httplib::Request& req, const std::string& body_in,
                     httplib::Response& res) {
  const EmbeddingService& service = state.require_service();
  const TokenizeRequest r = parse_tokenize(body_in, state.limits);
  const std::vector<Encoding> encodings = service.tokenize(r.inputs, r.truncate);
  const Tokenizer& tokenizer = service.embedder().tokenizer();
  std::string body = "[";
  size_t tokens = 0;
  for (size_t t = 0; t < encodings.size(); ++t) {
    const Encoding& e = encodings[t];
    const std::vector<uint32_t> chars = char_index(r.inputs[t]);
    if (t) body += ',';
    body += '[';
    bool first = true;
    for (size_t k = 0; k < e.size(); ++k) {
      // Post-processor tokens ([CLS], [SEP]) are the only ones with an empty span.
      const bool special = e.offsets[k].first == e.offsets[k].second;
      if (special && !r.add_special_tokens) continue;
      if (!first) body += ',';
      first = false;
      body += "{\"id\":" + std::to_string(e.ids[k]) + ",\"text\":";
      append_json_string(body, tokenizer.id_to_token(e.ids[k]));
      body += special ? ",\"special\":true,\"start\":null,\"stop\":null}"
                      : ",\"special\":false,\"start\":" + std::to_string(chars[e.offsets[k].first]) +
                            ",\"stop\":" + std::to_string(chars[e.offsets[k].second]) + "}";
      ++tokens;
    }
    body += ']';
  }
  body += ']';
  current_request().inputs = encodings.size();
  current_request().tokens = tokens;
  res.set_content(std::move(body), kJson);
}

void handle_info(const ServerState& state, httplib::Response& res) {
  const EmbeddingService& service = state.require_service();
  const ModelConfig& c = service.config();
  const ServerOptions& o = state.options;
  nlohmann::ordered_json info = {
      {"model_id", state.model_id},
      {"model_path", o.model_path},
      {"version", ARROWEMBED_VERSION},
      {"architecture", c.architecture},
      {"dimensions", c.hidden_size},
      {"max_seq_length", c.max_seq_length},
      {"pooling", std::string(pooling_name(c.pooling))},
      {"normalize", c.normalize},
      {"dtype", std::string(dtype_name(c.dtype))},
      {"load_ms", state.load_ms},
      {"engine_threads", service.embedder().num_threads()},
      {"precision", std::string(precision_name(o.precision))},
      {"limits",
       {{"max_inputs_per_request", o.max_inputs_per_request},
        {"max_payload_bytes", o.max_payload_bytes},
        {"max_batch_tokens", o.max_batch_tokens},
        {"max_batch_wait_ms", o.max_batch_wait_ms},
        {"max_queue_inputs", o.max_queue_inputs},
        {"auto_truncate", o.auto_truncate}}},
      {"cache", {{"capacity", service.cache_capacity()}, {"entries", service.cache_entries()}}},
      {"auth", !o.api_key.empty()},
  };
  res.set_content(info.dump(), kJson);
}

}  // namespace

void register_routes(httplib::Server& http, ServerState& state) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  http.Get("/health", [&state](Req, Res res) {
    if (state.ready.load()) {
      res.set_content("{\"status\":\"ok\"}", kJson);
    } else {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content("{\"status\":\"loading\"}", kJson);
    }
  });
  http.Get("/info", [&state](Req, Res res) { handle_info(state, res); });
  http.Get("/metrics", [&state](Req, Res res) {
    res.set_content(state.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/openapi.json", [](Req, Res res) { res.set_content(std::string(openapi_json()), kJson); });
  http.Get("/docs", [](Req, Res res) { res.set_content(std::string(docs_html()), "text/html; charset=utf-8"); });
  // POST bodies are read by the route itself: cpp-httplib would otherwise
  // parse a body sent as application/x-www-form-urlencoded (curl -d's
  // default) as a form, with its own 8 KiB limit. The payload limit applies.
  using Handler = void (*)(const ServerState&, const httplib::Request&, const std::string&, httplib::Response&);
  auto post = [&http, &state](const char* path, Handler handler) {
    http.Post(path, [&state, handler](Req req, Res res, const httplib::ContentReader& reader) {
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
    });
  };
  post("/embed", handle_embed);
  post("/v1/embeddings", handle_openai_embeddings);
  post("/embeddings", handle_openai_embeddings);
  post("/similarity", handle_similarity);
  post("/tokenize", handle_tokenize);
}

const EmbeddingService& ServerState::require_service() const {
  if (!ready.load(std::memory_order_acquire)) throw ApiError(503, "the model is still loading");
  return *service;
}

}  // namespace arrowembed::server

#include "server/api_requests.h"

#include <simdjson.h>

#include "arrowembed/service/service_error.h"

namespace arrowembed::server {

namespace {

using service::ErrorKind;
using service::ServiceError;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

ServiceError invalid(const std::string& field, const std::string& what) { return service::invalid_field(field, what); }

// The parser keeps its buffers between requests on the same connection thread.
object parse_object(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  element root;
  const auto error = parser.parse(body.data(), body.size()).get(root);
  if (error == simdjson::UTF8_ERROR) throw ServiceError(ErrorKind::Malformed, "the request body is not valid UTF-8");
  if (error) {
    throw ServiceError(ErrorKind::Malformed,
                       std::string("the request body is not valid JSON: ") + simdjson::error_message(error));
  }
  object o;
  if (root.get_object().get(o)) throw ServiceError(ErrorKind::InvalidInput, "the request body must be a JSON object");
  return o;
}

std::optional<element> field(const object& o, const char* key) {
  element value;
  if (o.at_key(key).get(value) || value.is_null()) return std::nullopt;
  return value;
}

bool boolean(const object& o, const char* key, bool fallback) {
  const auto value = field(o, key);
  if (!value) return fallback;
  bool b;
  if (value->get_bool().get(b)) throw invalid(key, "must be a boolean");
  return b;
}

std::string string_value(const element& e, const std::string& name) {
  std::string_view s;
  if (e.get_string().get(s)) throw invalid(name, "must be a string");
  return std::string(s);
}

// A string, or a non-empty list of strings, as TEI and OpenAI accept.
std::vector<std::string> string_or_list(const object& o, const char* key, bool* single = nullptr) {
  const auto value = field(o, key);
  if (!value) throw invalid(key, "is required");
  std::vector<std::string> out;
  if (value->is_string()) {
    out.push_back(string_value(*value, key));
    if (single) *single = true;
    return out;
  }
  array items;
  if (value->get_array().get(items)) throw invalid(key, "must be a string or a list of strings");
  if (items.size() == 0) throw invalid(key, "must not be empty");
  out.reserve(items.size());
  size_t i = 0;
  for (const element item : items) {
    if (!item.is_string()) {
      const bool token_ids = item.is_array() || item.is_int64();
      throw invalid(std::string(key) + "[" + std::to_string(i) + "]",
                    token_ids ? "is a token array; only text inputs are supported" : "must be a string");
    }
    out.push_back(string_value(item, key));
    ++i;
  }
  if (single) *single = false;
  return out;
}

std::optional<size_t> dimensions(const object& o) {
  const auto value = field(o, "dimensions");
  if (!value) return std::nullopt;
  int64_t n;
  if (value->get_int64().get(n)) throw invalid("dimensions", "must be an integer");
  if (n < 1) throw invalid("dimensions", "must be a positive integer");
  return static_cast<size_t>(n);
}

// string_or_list, and how the service should name its items in errors.
std::vector<std::string> texts(const object& o, const char* key, service::FieldNames* fields) {
  bool single = false;
  std::vector<std::string> out = string_or_list(o, key, &single);
  *fields = service::FieldNames::of_list(key, single);
  return out;
}

std::string model_name(const object& o) {
  const auto model = field(o, "model");
  return model ? string_value(*model, "model") : std::string();
}

std::optional<bool> optional_boolean(const object& o, const char* key) {
  if (!field(o, key)) return std::nullopt;
  return boolean(o, key, false);
}

}  // namespace

EmbedBody parse_tei_embed(std::string_view body) {
  const object o = parse_object(body);
  EmbedBody b;
  service::EmbedRequest& r = b.request;
  r.texts = texts(o, "inputs", &r.fields);
  r.normalize = boolean(o, "normalize", true);
  r.truncate = optional_boolean(o, "truncate");
  r.dimensions = dimensions(o);
  r.model = model_name(o);
  return b;
}

EmbedBody parse_openai_embeddings(std::string_view body) {
  const object o = parse_object(body);
  EmbedBody b;
  service::EmbedRequest& r = b.request;
  r.texts = texts(o, "input", &r.fields);
  r.normalize = boolean(o, "normalize", true);
  r.truncate = optional_boolean(o, "truncate");
  r.dimensions = dimensions(o);
  r.model = model_name(o);
  if (const auto format = field(o, "encoding_format")) {
    const std::string f = string_value(*format, "encoding_format");
    if (f != "float" && f != "base64") throw invalid("encoding_format", "must be \"float\" or \"base64\"");
    b.base64 = f == "base64";
  }
  return b;
}

service::SimilarityRequest parse_similarity(std::string_view body) {
  const object o = parse_object(body);
  service::SimilarityRequest r;
  r.truncate = optional_boolean(o, "truncate");
  r.model = model_name(o);
  if (const auto pairs = field(o, "pairs")) {
    array items;
    if (pairs->get_array().get(items)) throw invalid("pairs", "must be a list of [text, text] pairs");
    if (items.size() == 0) throw invalid("pairs", "must not be empty");
    size_t i = 0;
    for (const element item : items) {
      const std::string name = "pairs[" + std::to_string(i++) + "]";
      array pair;
      if (item.get_array().get(pair) || pair.size() != 2) throw invalid(name, "must be a list of two strings");
      r.pairs.emplace_back(string_value(pair.at(0).value_unsafe(), name + "[0]"),
                           string_value(pair.at(1).value_unsafe(), name + "[1]"));
    }
    return r;
  }
  const auto inputs = field(o, "inputs");
  if (!inputs) throw invalid("inputs", "is required (or give 'pairs')");
  object in;
  if (inputs->get_object().get(in)) {
    throw invalid("inputs", "must be an object with 'source_sentence' and 'sentences'");
  }
  const auto source = field(in, "source_sentence");
  if (!source) throw invalid("inputs.source_sentence", "is required");
  r.source = string_value(*source, "inputs.source_sentence");
  const auto sentences = field(in, "sentences");
  array items;
  if (!sentences || sentences->get_array().get(items)) throw invalid("inputs.sentences", "must be a list of strings");
  if (items.size() == 0) throw invalid("inputs.sentences", "must not be empty");
  size_t i = 0;
  for (const element item : items) {
    r.sentences.push_back(string_value(item, "inputs.sentences[" + std::to_string(i++) + "]"));
  }
  return r;
}

TokenizeBody parse_tokenize(std::string_view body) {
  const object o = parse_object(body);
  TokenizeBody b;
  service::TokenizeRequest& r = b.request;
  r.texts = texts(o, "inputs", &r.fields);
  b.add_special_tokens = boolean(o, "add_special_tokens", true);
  r.truncate = boolean(o, "truncate", false);
  r.model = model_name(o);
  return b;
}

service::SearchRequest parse_search(std::string_view body) {
  const object o = parse_object(body);
  service::SearchRequest r;
  const auto collection = field(o, "collection");
  if (!collection) throw invalid("collection", "is required");
  r.collection = string_value(*collection, "collection");
  const bool one = field(o, "query").has_value(), many = field(o, "queries").has_value();
  if (one == many) throw invalid("query", "give either 'query' (a string) or 'queries' (a list of strings)");
  if (one) {
    r.queries = {string_value(*field(o, "query"), "query")};
    r.fields = service::FieldNames::of_list("query", true);
  } else {
    r.queries = texts(o, "queries", &r.fields);
  }
  if (const auto k = field(o, "k")) {
    int64_t n;
    if (k->get_int64().get(n) || n < 1) throw invalid("k", "must be a positive integer");
    r.k = static_cast<size_t>(n);
  }
  if (const auto filter = field(o, "filter")) {
    object f;
    if (filter->get_object().get(f)) throw invalid("filter", "must be an object of column: value strings");
    for (const auto [key, value] : f) {
      r.filters.push_back({std::string(key), string_value(value, "filter." + std::string(key))});
    }
  }
  if (const auto mode = field(o, "mode")) {
    const std::string m = string_value(*mode, "mode");
    if (m == "auto") {
      r.mode = collection::SearchMode::Auto;
    } else if (m == "exact") {
      r.mode = collection::SearchMode::Exact;
    } else if (m == "approx") {
      r.mode = collection::SearchMode::Approx;
    } else {
      throw invalid("mode", "must be \"auto\", \"exact\" or \"approx\"");
    }
  }
  r.truncate = optional_boolean(o, "truncate");
  return r;
}

}  // namespace arrowembed::server

#include "arrowembed/tool/embedding_tool.h"

#include "arrowembed/service/service_error.h"

namespace arrowembed::tool {

namespace {

Json floats(const float* values, size_t count) {
  Json out = Json::array();
  for (size_t i = 0; i < count; ++i) out.push_back(json_float(values[i]));
  return out;
}

std::string string_or(const Json& arguments, const char* key, std::string fallback = {}) {
  const auto it = arguments.find(key);
  return it == arguments.end() ? fallback : it->get<std::string>();
}

const char* const kModelDescription =
    "Name of the embedding model to use; omit it for the default model (the first one loaded).";

Json embed_schema() {
  return {{"type", "object"},
          {"properties",
           {{"texts",
             {{"type", "array"},
              {"items", {{"type", "string"}}},
              {"minItems", 1},
              {"description", "The texts to embed, one vector each, in order."}}},
            {"model", {{"type", "string"}, {"description", kModelDescription}}},
            {"normalize", {{"type", "boolean"}, {"default", true}, {"description", "Scale each vector to unit length."}}},
            {"dimensions",
             {{"type", "integer"},
              {"minimum", 1},
              {"description", "Keep only the first N components (Matryoshka), then normalise."}}},
            {"truncate",
             {{"type", "boolean"},
              {"description", "Cut texts longer than the model's limit instead of failing (default: the server's setting)."}}}}},
          {"required", {"texts"}},
          {"additionalProperties", false}};
}

Json similarity_schema() {
  return {{"type", "object"},
          {"properties",
           {{"text", {{"type", "string"}, {"description", "The text to compare against every candidate."}}},
            {"candidates",
             {{"type", "array"},
              {"items", {{"type", "string"}}},
              {"minItems", 1},
              {"description", "Texts to score against `text`."}}},
            {"model", {{"type", "string"}, {"description", kModelDescription}}},
            {"truncate", {{"type", "boolean"}, {"description", "Cut texts longer than the model's limit instead of failing."}}}}},
          {"required", {"text", "candidates"}},
          {"additionalProperties", false}};
}

Json search_schema(const std::vector<service::CollectionSummary>& collections) {
  Json names = Json::array();
  std::string described;
  for (const auto& c : collections) {
    names.push_back(c.name);
    described += (described.empty() ? "" : "; ") + c.name + " (" + std::to_string(c.size) + " documents)";
  }
  return {{"type", "object"},
          {"properties",
           {{"collection",
             {{"type", "string"}, {"enum", names}, {"description", "The collection to search: " + described + "."}}},
            {"query", {{"type", "string"}, {"description", "What to look for, in natural language."}}},
            {"queries",
             {{"type", "array"},
              {"items", {{"type", "string"}}},
              {"minItems", 1},
              {"description", "Several queries at once (instead of `query`); one result list each."}}},
            {"k", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 10}, {"description", "How many results per query."}}},
            {"filter",
             {{"type", "object"},
              {"additionalProperties", {{"type", "string"}}},
              {"description", "Only documents whose metadata columns equal these values, e.g. {\"lang\": \"en\"}."}}}}},
          {"required", {"collection"}},
          {"oneOf", Json::array({{{"required", {"query"}}}, {{"required", {"queries"}}}})},
          {"additionalProperties", false}};
}

}  // namespace

EmbeddingTool::EmbeddingTool(const service::EmbeddingService& service) : service_(service) {
  registry_.add({"embed",
                 "Turn texts into embedding vectors (lists of floats) with a sentence-embedding model. Use it when "
                 "you need the vectors themselves, e.g. to store them; to compare texts use `similarity`, to find "
                 "documents use `search`.",
                 embed_schema()},
                [this](const Json& a) { return embed(a); });
  registry_.add({"similarity",
                 "Score how similar in meaning each candidate text is to one text: cosine similarity of their "
                 "embeddings, from -1 to 1 (about 0.5 and above: closely related). Returns one score per candidate, "
                 "in order.",
                 similarity_schema()},
                [this](const Json& a) { return similarity(a); });
  const auto collections = service_.collections();
  if (!collections.empty()) {
    registry_.add({"search",
                   "Semantic search: find the documents of a collection closest in meaning to a query (not keyword "
                   "matching). Returns the best `k` documents per query with their id, text, metadata and a "
                   "cosine score (higher is closer).",
                   search_schema(collections)},
                  [this](const Json& a) { return search(a); });
  }
}

Json EmbeddingTool::execute(const std::string& action, const Json& arguments) const {
  return registry_.call(action, arguments);
}

Json EmbeddingTool::embed(const Json& a) const {
  service::EmbedRequest r;
  r.model = string_or(a, "model");
  r.texts = a["texts"].get<std::vector<std::string>>();
  r.fields = service::FieldNames::of_list("texts", false);
  if (a.contains("normalize")) r.normalize = a["normalize"].get<bool>();
  if (a.contains("dimensions")) r.dimensions = a["dimensions"].get<size_t>();
  if (a.contains("truncate")) r.truncate = a["truncate"].get<bool>();
  const service::Embeddings e = service_.embed(r);
  Json vectors = Json::array();
  for (size_t i = 0; i < e.rows; ++i) vectors.push_back(floats(e.values.data() + i * e.dimension, e.dimension));
  return {{"model", e.model}, {"dimensions", e.dimension}, {"embeddings", std::move(vectors)}, {"usage", {{"tokens", e.usage.tokens}}}};
}

Json EmbeddingTool::similarity(const Json& a) const {
  service::SimilarityRequest r;
  r.model = string_or(a, "model");
  r.source = a["text"].get<std::string>();
  r.sentences = a["candidates"].get<std::vector<std::string>>();
  if (a.contains("truncate")) r.truncate = a["truncate"].get<bool>();
  r.source_field = "text";
  r.sentences_field = "candidates";
  const service::Similarity s = service_.similarity(r);
  Json scores = Json::array();
  for (size_t i = 0; i < s.scores.size(); ++i) {
    scores.push_back({{"text", r.sentences[i]}, {"score", json_float(s.scores[i])}});
  }
  return {{"model", s.model}, {"scores", std::move(scores)}, {"usage", {{"tokens", s.usage.tokens}}}};
}

Json EmbeddingTool::search(const Json& a) const {
  service::SearchRequest r;
  r.collection = a["collection"].get<std::string>();
  if (a.contains("query")) {
    r.queries = {a["query"].get<std::string>()};
    r.fields = service::FieldNames::of_list("query", true);
  } else {
    r.queries = a["queries"].get<std::vector<std::string>>();
    r.fields = service::FieldNames::of_list("queries", false);
  }
  if (a.contains("k")) r.k = a["k"].get<size_t>();
  if (a.contains("filter")) {
    for (const auto& [column, value] : a["filter"].items()) r.filters.push_back({column, value.get<std::string>()});
  }
  const service::SearchResult result = service_.search(r);
  Json results = Json::array();
  for (size_t q = 0; q < result.hits.size(); ++q) {
    Json hits = Json::array();
    for (const auto& hit : result.hits[q]) {
      Json h = {{"id", hit.id}, {"score", json_float(hit.score)}, {"text", hit.text}};
      if (!hit.metadata.empty()) {
        Json metadata = Json::object();
        for (const auto& [column, value] : hit.metadata) metadata[column] = value;
        h["metadata"] = std::move(metadata);
      }
      hits.push_back(std::move(h));
    }
    results.push_back({{"query", r.queries[q]}, {"hits", std::move(hits)}});
  }
  return {{"collection", result.collection}, {"model", result.model}, {"results", std::move(results)}};
}

}  // namespace arrowembed::tool

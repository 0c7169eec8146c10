#include "arrowembed/tool/embedding_tool.h"

#include <charconv>

#include "arrowembed/service/service_error.h"

namespace arrowembed::tool {

namespace {

// A float as the shortest decimal that reads back to it: nlohmann would
// print the double it widens to, with twice the digits.
double tidy(float value) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  double out = 0;
  std::from_chars(buf, end, out);
  return out;
}

Json floats(const float* values, size_t count) {
  Json out = Json::array();
  for (size_t i = 0; i < count; ++i) out.push_back(tidy(values[i]));
  return out;
}

std::string string_or(const Json& arguments, const char* key, std::string fallback = {}) {
  const auto it = arguments.find(key);
  return it == arguments.end() ? fallback : it->get<std::string>();
}

const char* const kModelDescription =
    "Name of the embedding model to use (the server's default model when omitted). The names served are listed by "
    "GET /v1/models.";

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
    scores.push_back({{"text", r.sentences[i]}, {"score", tidy(s.scores[i])}});
  }
  return {{"model", s.model}, {"scores", std::move(scores)}, {"usage", {{"tokens", s.usage.tokens}}}};
}

}  // namespace arrowembed::tool

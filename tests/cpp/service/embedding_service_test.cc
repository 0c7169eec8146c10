// The service on the two tiny fixture BERTs (different shapes): models by
// name, per-request options, the cache, typed errors naming fields,
// hot-swap with requests running, unload.
#include "arrowembed/service/embedding_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "arrowembed/service/service_error.h"
#include "common/test_util.h"
#include "service/service_metrics.h"

namespace arrowembed::service {
namespace {

ModelSpec spec(const std::string& name, const std::string& tiny) { return {.name = name, .path = testing::tiny_model(tiny)}; }

// What the engine alone gives for these texts (the model's own normalisation).
std::vector<float> direct(const std::string& tiny, const std::vector<std::string>& texts) {
  const Embedder e = Embedder::load(testing::tiny_model(tiny), {.num_threads = 1});
  std::vector<std::string_view> views(texts.begin(), texts.end());
  return e.embed(views, {.max_length = 0, .normalize = true});
}

template <typename F>
ServiceError refusal(F call) {
  try {
    call();
  } catch (const ServiceError& e) {
    return e;
  }
  ADD_FAILURE() << "no ServiceError thrown";
  return ServiceError(ErrorKind::Internal, "");
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tolerance = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tolerance) << i;
}

TEST(EmbeddingService, SeveralModelsByName) {
  EmbeddingService svc({.engine_threads = 2, .cache_entries = 64});
  EXPECT_FALSE(svc.has_models());
  EXPECT_EQ(refusal([&] { svc.embed({.texts = {"x"}}); }).kind(), ErrorKind::Unavailable);
  EXPECT_FALSE(svc.load(spec("cls", "tiny-bert-cls")).replaced);
  EXPECT_FALSE(svc.load(spec("mean", "tiny-bert-mean")).replaced);
  const std::vector<std::string> texts = {"hello there", "general kenobi"};
  const Embeddings cls = svc.embed({.texts = texts});  // the first model is the default
  EXPECT_EQ(cls.model, "cls");
  expect_near(cls.values, direct("tiny-bert-cls", texts));
  const Embeddings mean = svc.embed({.model = "mean", .texts = texts});
  EXPECT_EQ(mean.model, "mean");
  EXPECT_NE(mean.dimension, cls.dimension);
  expect_near(mean.values, direct("tiny-bert-mean", texts));

  const ServiceError missing = refusal([&] { svc.embed({.model = "nope", .texts = texts}); });
  EXPECT_EQ(missing.kind(), ErrorKind::ModelNotFound);
  EXPECT_EQ(missing.field(), "model");
  EXPECT_NE(std::string(missing.what()).find("served: cls, mean"), std::string::npos) << missing.what();

  const auto models = svc.models();
  ASSERT_EQ(models.size(), 2u);
  EXPECT_TRUE(models[0].is_default);
  EXPECT_FALSE(models[1].is_default);
  EXPECT_GT(models[1].memory_bytes, 0u);
  EXPECT_EQ(svc.engine_threads(), 2u);
  // Per-model metrics.
  EXPECT_EQ(svc.metrics().inputs.value({"cls"}), 2);
  EXPECT_EQ(svc.metrics().inputs.value({"mean"}), 2);
  EXPECT_GT(svc.metrics().model_memory.value({"mean"}), 0);
}

TEST(EmbeddingService, CacheOptionsAndFieldNamedErrors) {
  EmbeddingService svc({.cache_entries = 8, .max_inputs_per_request = 3});
  svc.load(spec("m", "tiny-bert-mean"));
  const size_t dim = svc.model("").config.hidden_size;
  const std::vector<std::string> texts = {"hello there", "general kenobi"};
  const Embeddings raw = svc.embed({.texts = texts, .normalize = false});
  EXPECT_EQ(raw.usage.cache_hits, 0u);
  const Embeddings unit = svc.embed({.texts = texts});
  EXPECT_EQ(unit.usage.cache_hits, 2u);
  EXPECT_EQ(unit.usage.tokens, raw.usage.tokens);
  for (size_t r = 0; r < 2; ++r) {  // normalised = raw / |raw|
    double n2 = 0;
    for (size_t i = 0; i < dim; ++i) n2 += raw.values[r * dim + i] * raw.values[r * dim + i];
    for (size_t i = 0; i < dim; ++i) EXPECT_NEAR(unit.values[r * dim + i], raw.values[r * dim + i] / std::sqrt(n2), 1e-6);
  }
  const Embeddings prefix = svc.embed({.texts = texts, .dimensions = 4});
  EXPECT_EQ(prefix.values.size(), 8u);
  EXPECT_EQ(prefix.dimension, 4u);
  EXPECT_EQ(svc.metrics().cache_hits.value({"m"}), 4);

  EXPECT_EQ(refusal([&] { svc.embed({.texts = texts, .dimensions = dim + 1}); }).field(), "dimensions");
  const ServiceError many = refusal([&] { svc.embed({.texts = {"a", "b", "c", "d"}}); });
  EXPECT_EQ(many.kind(), ErrorKind::InvalidInput);
  EXPECT_EQ(many.field(), "inputs");
  EXPECT_EQ(refusal([&] { svc.embed({.texts = {}}); }).field(), "inputs");

  // Too long without truncate: TooLong naming the input; with truncate: served.
  const size_t max = svc.model("m").config.max_seq_length;
  std::string long_text;
  for (size_t i = 0; i < max; ++i) long_text += "word ";
  const ServiceError too_long = refusal([&] { svc.embed({.texts = {"short", long_text}}); });
  EXPECT_EQ(too_long.kind(), ErrorKind::TooLong);
  EXPECT_EQ(too_long.field(), "inputs[1]");
  EXPECT_EQ(svc.embed({.texts = {"short", long_text}, .truncate = true}).rows, 2u);

  const Tokenized cut = svc.tokenize({.texts = {long_text}, .truncate = true});
  EXPECT_EQ(cut.texts[0].size(), max);
  EXPECT_TRUE(cut.texts[0].front().special);  // [CLS]
  EXPECT_FALSE(cut.texts[0][1].special);
  EXPECT_EQ(cut.texts[0][1].start, 0u);
  EXPECT_GT(svc.tokenize({.texts = {long_text}}).texts[0].size(), max);
  EXPECT_EQ(refusal([&] { svc.tokenize({.texts = {"a", "b", "c", "d"}}); }).field(), "inputs");
}

TEST(EmbeddingService, SimilarityIsCosine) {
  EmbeddingService svc({});
  svc.load(spec("m", "tiny-bert-cls"));
  const Similarity s = svc.similarity({.source = "a cat", .sentences = {"a cat", "a dog"}});
  ASSERT_EQ(s.scores.size(), 2u);
  EXPECT_NEAR(s.scores[0], 1.0f, 1e-5f);
  const auto v = direct("tiny-bert-cls", {"a cat", "a dog"});
  const size_t dim = v.size() / 2;
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < dim; ++i) {
    dot += v[i] * v[dim + i];
    na += v[i] * v[i];
    nb += v[dim + i] * v[dim + i];
  }
  EXPECT_NEAR(s.scores[1], dot / std::sqrt(na * nb), 1e-5);
  const Similarity pairs = svc.similarity({.pairs = {{"a cat", "a dog"}, {"x", "x"}}});
  EXPECT_NEAR(pairs.scores[0], s.scores[1], 1e-5f);
  EXPECT_NEAR(pairs.scores[1], 1.0f, 1e-5f);
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  const ServiceError e = refusal([&] { svc.similarity({.pairs = {{"a", long_text}}}); });
  EXPECT_EQ(e.kind(), ErrorKind::TooLong);
  EXPECT_EQ(e.field(), "pairs[0][1]");
}

TEST(EmbeddingService, AnyNameSelectsTheOnlyModelWhenAsked) {
  EmbeddingService lenient({.any_name_selects_default = true});
  lenient.load(spec("m", "tiny-bert-cls"));
  EXPECT_EQ(lenient.embed({.model = "text-embedding-3-small", .texts = {"x"}}).model, "m");
  EmbeddingService strict({});
  strict.load(spec("m", "tiny-bert-cls"));
  EXPECT_EQ(refusal([&] { strict.embed({.model = "other", .texts = {"x"}}); }).kind(), ErrorKind::ModelNotFound);
}

TEST(EmbeddingService, BadFilesAreRefusedAndTheOldModelKeepsServing) {
  EmbeddingService svc({});
  svc.load(spec("m", "tiny-bert-cls"));
  const std::vector<std::string> texts = {"still here"};
  const ServiceError missing = refusal([&] { svc.load({.name = "m", .path = "/nonexistent/model.arrow"}); });
  EXPECT_EQ(missing.kind(), ErrorKind::InvalidInput);
  EXPECT_EQ(missing.field(), "path");
  const auto damaged = std::filesystem::temp_directory_path() / "arrowembed-damaged.arrow";
  {
    std::ofstream out(damaged, std::ios::binary);
    out << "ARROW1 this is not a model";
  }
  EXPECT_EQ(refusal([&] { svc.load({.name = "m", .path = damaged}); }).field(), "path");
  std::filesystem::remove(damaged);
  expect_near(svc.embed({.model = "m", .texts = texts}).values, direct("tiny-bert-cls", texts));
  EXPECT_EQ(svc.metrics().model_loads.value({"m", "failed"}), 2);
  EXPECT_EQ(refusal([&] { svc.load({.name = "a/b", .path = testing::tiny_model("tiny-bert-cls")}); }).field(),
            "name");
}

TEST(EmbeddingService, SwapUnderLoadNeverMixesModels) {
  EmbeddingService svc({.engine_threads = 2, .cache_entries = 0});
  svc.load(spec("base", "tiny-bert-cls"));
  svc.load(spec("swap", "tiny-bert-cls"));
  const std::vector<std::string> texts = {"one text", "and another one", "a third"};
  const auto want_cls = direct("tiny-bert-cls", texts), want_mean = direct("tiny-bert-mean", texts);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, served{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!done) {
        try {
          const Embeddings e = svc.embed({.model = "swap", .texts = texts});
          const auto& want = e.values.size() == want_cls.size() ? want_cls : want_mean;
          for (size_t i = 0; i < want.size(); ++i) {
            if (e.values.size() != want.size() || std::abs(e.values[i] - want[i]) > 1e-5f) {
              ++failures;
              break;
            }
          }
          ++served;
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    const LoadResult r = svc.load(spec("swap", i % 2 ? "tiny-bert-cls" : "tiny-bert-mean"));
    EXPECT_TRUE(r.replaced);
  }
  done = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(served, 0);
  EXPECT_EQ(svc.metrics().model_loads.value({"swap", "replaced"}), 20);

  // Unload: gone, its series with it; the default cannot go.
  svc.unload("swap");
  EXPECT_EQ(refusal([&] { svc.embed({.model = "swap", .texts = texts}); }).kind(), ErrorKind::ModelNotFound);
  EXPECT_EQ(refusal([&] { svc.unload("swap"); }).kind(), ErrorKind::ModelNotFound);
  EXPECT_EQ(svc.metrics().model_memory.value({"swap"}), 0);
  svc.load(spec("other", "tiny-bert-mean"));
  EXPECT_EQ(refusal([&] { svc.unload("base"); }).kind(), ErrorKind::Conflict);
  // A new default, then the old one may go.
  ModelSpec next = spec("other", "tiny-bert-mean");
  next.is_default = true;
  svc.load(next);
  svc.unload("base");
  EXPECT_EQ(svc.embed({.texts = {"x"}}).model, "other");
  EXPECT_EQ(refusal([&] { svc.unload("other"); }).kind(), ErrorKind::Conflict);  // even as the only model
  svc.stop();
  EXPECT_EQ(refusal([&] { svc.embed({.texts = {"x"}}); }).kind(), ErrorKind::Unavailable);
  EXPECT_EQ(refusal([&] { svc.load(spec("late", "tiny-bert-cls")); }).kind(), ErrorKind::Unavailable);
}

TEST(EmbeddingService, SearchesCollectionsWithTheModelThatMadeThem) {
  EmbeddingService svc({.engine_threads = 2});
  svc.load(spec("mean", "tiny-bert-mean"));
  svc.load(spec("cls", "tiny-bert-cls"));
  const std::vector<std::string> docs = {"a cat sits on the mat", "stock prices fell", "the kitten sleeps",
                                         "rain is expected tomorrow", "a dog barks"};
  const auto dir = std::filesystem::temp_directory_path() / "arrowembed-service-collection";
  std::filesystem::remove_all(dir);
  {
    const Embedder mean = Embedder::load(testing::tiny_model("tiny-bert-mean"), {.num_threads = 1});
    collection::Collection c = collection::Collection::create(dir, collection::model_fingerprint(mean, "mean"));
    collection::NewDocuments add;
    for (size_t i = 0; i < docs.size(); ++i) add.ids.push_back("d" + std::to_string(i));
    add.texts = docs;
    add.metadata = {{"kind", {"pet", "money", "pet", "weather", "pet"}}};
    add.embeddings = svc.embed({.model = "mean", .texts = docs}).values;  // tiny-bert-mean normalises
    c.add(add);
  }
  svc.attach_collection({.name = "docs", .path = dir});
  const auto summaries = svc.collections();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].model, "mean");  // found by fingerprint
  EXPECT_EQ(summaries[0].size, docs.size());

  const SearchResult r = svc.search({.collection = "docs", .queries = {docs[2], docs[3]}, .k = 2});
  EXPECT_EQ(r.model, "mean");
  ASSERT_EQ(r.hits.size(), 2u);
  EXPECT_EQ(r.hits[0][0].id, "d2");  // a document is its own best match
  EXPECT_NEAR(r.hits[0][0].score, 1.0f, 1e-5f);
  EXPECT_EQ(r.hits[1][0].id, "d3");
  EXPECT_GT(r.usage.tokens, 0u);
  const SearchResult pets =
      svc.search({.collection = "docs", .queries = {"weather"}, .k = 5, .filters = {{"kind", "pet"}}});
  ASSERT_EQ(pets.hits[0].size(), 3u);
  for (const auto& hit : pets.hits[0]) EXPECT_EQ(hit.metadata.at(0).second, "pet");

  EXPECT_EQ(refusal([&] { svc.search({.collection = "nope", .queries = {"x"}}); }).kind(), ErrorKind::CollectionNotFound);
  EXPECT_EQ(refusal([&] { svc.search({.collection = "docs", .queries = {"x"}, .k = 0}); }).field(), "k");
  EXPECT_EQ(refusal([&] { svc.search({.collection = "docs", .queries = {}}); }).field(), "queries");
  EXPECT_EQ(refusal([&] { svc.attach_collection({.name = "docs", .path = dir}); }).field(), "name");
  EXPECT_EQ(refusal([&] { svc.attach_collection({.name = "x", .path = dir / "missing"}); }).field(), "path");
  // Made by tiny-bert-mean: not searchable with cls.
  EXPECT_EQ(refusal([&] { svc.attach_collection({.name = "x", .path = dir, .model = "cls"}); }).field(), "path");
  // The model under its name swapped for another: refused, never compared across models.
  svc.load(spec("mean", "tiny-bert-cls"));
  EXPECT_EQ(refusal([&] { svc.search({.collection = "docs", .queries = {"x"}}); }).kind(), ErrorKind::Conflict);
  std::filesystem::remove_all(dir);
}

TEST(ServiceError, KindNames) {
  EXPECT_EQ(error_kind_name(ErrorKind::Malformed), "malformed");
  EXPECT_EQ(error_kind_name(ErrorKind::InvalidInput), "invalid_input");
  EXPECT_EQ(error_kind_name(ErrorKind::TooLong), "too_long");
  EXPECT_EQ(error_kind_name(ErrorKind::Overloaded), "overloaded");
  EXPECT_EQ(error_kind_name(ErrorKind::ModelNotFound), "model_not_found");
  EXPECT_EQ(error_kind_name(ErrorKind::CollectionNotFound), "collection_not_found");
  EXPECT_EQ(error_kind_name(ErrorKind::Conflict), "conflict");
  EXPECT_EQ(error_kind_name(ErrorKind::Unavailable), "unavailable");
  EXPECT_EQ(error_kind_name(ErrorKind::Internal), "internal");
}

}  // namespace
}  // namespace arrowembed::service

// The Embedder against the committed references: the tiny random models'
// embeddings from transformers BertModel + pooling (tests/fixtures/tiny-models),
// plus batching, threading and error behaviour.
#include "arrowembed/engine/embedder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "arrowembed/error.h"
#include "arrowembed/format/model_file.h"
#include "arrowembed/format/model_writer.h"
#include "common/test_util.h"

namespace arrowembed {
namespace {

struct Reference {
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::vector<float>> embeddings;
};

Reference load_reference(const std::string& model) {
  const auto bytes = testing::read_bytes(testing::tiny_model(model) / "reference.json");
  const auto j = nlohmann::json::parse(bytes);
  return {j["texts"].get<std::vector<std::string>>(), j["ids"].get<std::vector<std::vector<int32_t>>>(),
          j["embeddings"].get<std::vector<std::vector<float>>>()};
}

double cosine(const float* a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < b.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

std::vector<std::string_view> views(const std::vector<std::string>& texts) { return {texts.begin(), texts.end()}; }

class TinyModel : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyModel, F32MatchesTransformers) {
  const Reference ref = load_reference(GetParam());
  const Embedder embedder = Embedder::load(testing::tiny_model(GetParam()));
  const auto out = embedder.embed(views(ref.texts));
  const size_t dim = embedder.dimension();
  for (size_t i = 0; i < ref.texts.size(); ++i) {
    EXPECT_EQ(embedder.tokenizer().encode(ref.texts[i], embedder.config().max_seq_length).ids, ref.ids[i]) << i;
    for (size_t c = 0; c < dim; ++c) ASSERT_NEAR(out[i * dim + c], ref.embeddings[i][c], 1e-5) << i << "," << c;
    EXPECT_GE(cosine(out.data() + i * dim, ref.embeddings[i]), 0.99999) << i;
  }
  // Weights packed up front (as a server does) give the same vectors.
  const Embedder packed = Embedder::load(testing::tiny_model(GetParam()));
  packed.pack_weights();
  EXPECT_EQ(packed.embed(views(ref.texts)), out);
}

TEST_P(TinyModel, F16FileIsCloseAndKeepsItsMemoryF16) {
  const Reference ref = load_reference(GetParam());
  testing::TempDir dir;
  write_model(ModelFile::open(testing::tiny_model(GetParam())), dir / "m.arrow", {.dtype = DType::F16});
  const Embedder embedder = Embedder::load(dir / "m.arrow");
  EXPECT_EQ(embedder.config().dtype, DType::F16);
  const auto out = embedder.embed(views(ref.texts));
  for (size_t i = 0; i < ref.texts.size(); ++i)
    EXPECT_GE(cosine(out.data() + i * embedder.dimension(), ref.embeddings[i]), 0.9995) << i;
}

TEST_P(TinyModel, ResultsDoNotDependOnBatchingOrThreads) {
  const Reference ref = load_reference(GetParam());
  const Embedder one = Embedder::load(testing::tiny_model(GetParam()), {.num_threads = 1, .max_pass_tokens = 7});
  const Embedder two = Embedder::load(testing::tiny_model(GetParam()), {.num_threads = 2});
  EXPECT_EQ(one.num_threads(), 1u);
  const auto a = one.embed(views(ref.texts));
  const auto b = two.embed(views(ref.texts));
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6);
  // Alone or in a batch, a text gets the same vector.
  const std::vector<std::string_view> single = {ref.texts[1]};
  const auto alone = two.embed(single);
  for (size_t c = 0; c < two.dimension(); ++c) ASSERT_NEAR(alone[c], b[two.dimension() + c], 1e-6);
}

TEST_P(TinyModel, ConcurrentCallersGetTheirOwnResults) {
  const Reference ref = load_reference(GetParam());
  const Embedder embedder = Embedder::load(testing::tiny_model(GetParam()));
  const auto expected = embedder.embed(views(ref.texts));
  std::vector<std::thread> callers;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        const size_t i = (t * 3 + round) % ref.texts.size();
        const std::vector<std::string_view> one = {ref.texts[i]};
        const auto got = embedder.embed(one);
        bool same = true;
        for (size_t c = 0; c < embedder.dimension(); ++c)
          same = same && std::fabs(got[c] - expected[i * embedder.dimension() + c]) < 1e-6;
        ok[t] += same;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(ok, (std::vector<int>{10, 10, 10, 10}));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TinyModel, ::testing::Values("tiny-bert-cls", "tiny-bert-mean"));

TEST(Embedder, OptionsAndStats) {
  const Embedder embedder = Embedder::load(testing::tiny_model("tiny-bert-mean"));
  ASSERT_TRUE(embedder.config().normalize);
  const std::vector<std::string> texts = {"hello world", "the the the the"};
  std::vector<float> out(2 * embedder.dimension());
  const EmbedStats stats = embedder.embed(views(texts), out, {.normalize = false});
  EXPECT_EQ(stats.texts, 2u);
  EXPECT_EQ(stats.batches, 1u);
  EXPECT_GT(stats.tokens, 4u);
  EXPECT_GT(stats.flops, 0);
  double norm = 0;
  for (size_t c = 0; c < embedder.dimension(); ++c) norm += out[c] * out[c];
  EXPECT_GT(std::fabs(std::sqrt(norm) - 1.0), 1e-3);  // not normalised on request
  const auto normalized = embedder.embed(views(texts));
  norm = 0;
  for (size_t c = 0; c < embedder.dimension(); ++c) norm += normalized[c] * normalized[c];
  EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-6);
  // Shorter truncation changes a long text's vector, and the model's limit is a ceiling.
  const std::vector<std::string> longer = {"hello world hello world hello world hello world"};
  EXPECT_NE(embedder.embed(views(longer), {.max_length = 4}), embedder.embed(views(longer)));
  EXPECT_THROW(embedder.embed(views(longer), {.max_length = 1000}), Error);
  EXPECT_TRUE(embedder.embed(std::vector<std::string_view>{}).empty());
}

TEST(Embedder, BadInputIsAClearError) {
  const Embedder embedder = Embedder::load(testing::tiny_model("tiny-bert-cls"));
  const std::vector<std::string> texts = {"fine", std::string("bad \xff utf8")};
  try {
    embedder.embed(views(texts));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos) << e.what();
  }
  std::vector<float> small(3);
  EXPECT_THROW(embedder.embed(views(texts), small), Error);
  Encoding bad;
  bad.ids = {2, 100000, 3};
  std::vector<float> out(embedder.dimension());
  EXPECT_THROW(embedder.embed_encodings(std::span<const Encoding>(&bad, 1), out), Error);
  Encoding too_long;
  too_long.ids.assign(1000, 5);
  EXPECT_THROW(embedder.embed_encodings(std::span<const Encoding>(&too_long, 1), out), Error);
  EXPECT_THROW(Embedder::load(testing::tiny_model("tiny-bert-cls"), {.max_pass_tokens = 0}), Error);
  EXPECT_THROW(Embedder::load("/nonexistent/model.arrow"), Error);
}

TEST(Embedder, ModelsSharingOnePoolGiveTheirOwnResults) {
  const auto pool = EnginePool::create(2);
  EmbedderOptions shared;
  shared.pool = pool;
  const Embedder cls = Embedder::load(testing::tiny_model("tiny-bert-cls"), shared);
  const Embedder mean = Embedder::load(testing::tiny_model("tiny-bert-mean"), shared);
  EXPECT_EQ(cls.num_threads(), 2u);
  EXPECT_EQ(mean.num_threads(), 2u);
  const Reference rc = load_reference("tiny-bert-cls"), rm = load_reference("tiny-bert-mean");
  // Concurrent calls on both models take turns on the one pool.
  std::vector<std::thread> threads;
  std::atomic<int> worst{0};  // cosines below 0.99999, counted
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Embedder& e = t % 2 ? mean : cls;
      const Reference& r = t % 2 ? rm : rc;
      for (int round = 0; round < 5; ++round) {
        const auto out = e.embed(views(r.texts));
        for (size_t i = 0; i < r.texts.size(); ++i) {
          if (cosine(out.data() + i * e.dimension(), r.embeddings[i]) < 0.99999) ++worst;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(worst, 0);
}

TEST(Embedder, MemoryBytesCountsFilePackedWeightsAndWorkspace) {
  const Embedder e = Embedder::load(testing::tiny_model("tiny-bert-mean"), {.num_threads = 1});
  const size_t loaded = e.memory_bytes();
  EXPECT_GT(loaded, 0u);
  e.pack_weights();
  const size_t packed = e.memory_bytes();
  EXPECT_GT(packed, loaded);  // the panels
  std::vector<std::string> texts(70, "a text long enough to be a batch");
  e.embed(views(texts));
  EXPECT_GT(e.memory_bytes(), packed);  // the workspace
}

TEST(Embedder, L2NormalizeAndPrecisionNames) {
  std::vector<float> v = {3, 4};
  l2_normalize(v);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0};
  l2_normalize(zero);
  EXPECT_EQ(zero[0], 0.0f);  // never NaN
  EXPECT_EQ(precision_from_name("bf16"), MatmulPrecision::BF16);
  EXPECT_EQ(precision_from_name(precision_name(MatmulPrecision::F32)), MatmulPrecision::F32);
  EXPECT_THROW(precision_from_name("f8"), Error);
}

}  // namespace
}  // namespace arrowembed

// The EmbeddingTool on the two tiny fixture models: each action's output
// against the engine's own vectors, and its errors naming the argument.
#include "arrowembed/tool/embedding_tool.h"

#include <gtest/gtest.h>

#include <cmath>

#include "arrowembed/service/service_error.h"
#include "common/test_util.h"

namespace arrowembed::tool {
namespace {

using service::ErrorKind;
using service::ServiceError;

class EmbeddingToolTest : public ::testing::Test {
 protected:
  EmbeddingToolTest() : svc_({.engine_threads = 1}) {
    svc_.load({.name = "cls", .path = testing::tiny_model("tiny-bert-cls")});
    svc_.load({.name = "mean", .path = testing::tiny_model("tiny-bert-mean")});
  }
  std::vector<float> direct(const std::string& model, const std::vector<std::string>& texts) {
    return svc_.embed({.model = model, .texts = texts}).values;
  }
  service::EmbeddingService svc_;
};

TEST_F(EmbeddingToolTest, EmbedGivesTheServiceVectors) {
  const EmbeddingTool tool(svc_);
  const Json out = tool.execute("embed", {{"texts", {"hello there", "a cat"}}, {"model", "mean"}});
  EXPECT_EQ(out["model"], "mean");
  const auto want = direct("mean", {"hello there", "a cat"});
  const size_t dim = out["dimensions"].get<size_t>();
  ASSERT_EQ(out["embeddings"].size(), 2u);
  for (size_t r = 0; r < 2; ++r)
    for (size_t i = 0; i < dim; ++i) EXPECT_NEAR(out["embeddings"][r][i].get<double>(), want[r * dim + i], 1e-6);
  EXPECT_GT(out["usage"]["tokens"].get<int>(), 4);
  const Json short_one = tool.execute("embed", {{"texts", {"x"}}, {"dimensions", 8}, {"normalize", true}});
  EXPECT_EQ(short_one["model"], "cls");  // the default
  EXPECT_EQ(short_one["embeddings"][0].size(), 8u);
}

TEST_F(EmbeddingToolTest, SimilarityScoresAreCosines) {
  const EmbeddingTool tool(svc_);
  const Json out = tool.execute("similarity", {{"text", "a cat"}, {"candidates", {"a cat", "a dog"}}});
  ASSERT_EQ(out["scores"].size(), 2u);
  EXPECT_EQ(out["scores"][1]["text"], "a dog");
  EXPECT_NEAR(out["scores"][0]["score"].get<double>(), 1.0, 1e-5);
  const auto v = direct("cls", {"a cat", "a dog"});
  const size_t dim = v.size() / 2;
  double dot = 0;
  for (size_t i = 0; i < dim; ++i) dot += v[i] * v[dim + i];
  EXPECT_NEAR(out["scores"][1]["score"].get<double>(), dot, 1e-5);
}

TEST_F(EmbeddingToolTest, ErrorsNameTheArgument) {
  const EmbeddingTool tool(svc_);
  auto field_of = [&](const std::string& action, const Json& args) {
    try {
      tool.execute(action, args);
    } catch (const ServiceError& e) {
      return std::make_pair(e.kind(), e.field());
    }
    ADD_FAILURE() << action << " " << args.dump();
    return std::make_pair(ErrorKind::Internal, std::string());
  };
  EXPECT_EQ(field_of("embed", {{"texts", {"x"}}, {"model", "nope"}}), std::make_pair(ErrorKind::ModelNotFound, std::string("model")));
  EXPECT_EQ(field_of("embed", {{"texts", {"x"}}, {"dimensions", 9999}}).second, "dimensions");
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word ";
  EXPECT_EQ(field_of("embed", {{"texts", {"x", long_text}}}), std::make_pair(ErrorKind::TooLong, std::string("texts[1]")));
  EXPECT_EQ(field_of("similarity", {{"text", long_text}, {"candidates", {"x"}}}).second, "text");
  EXPECT_EQ(field_of("similarity", {{"text", "x"}, {"candidates", {"y", long_text}}}).second, "candidates[1]");
  EXPECT_EQ(field_of("similarity", {{"text", "x"}}).second, "candidates");
  EXPECT_EQ(field_of("search", {{"query", "x"}}).second, "name");  // no collections: no search tool
}

TEST_F(EmbeddingToolTest, SchemasInBothFormats) {
  const EmbeddingTool tool(svc_);
  const Json schema = tool.get_schema();
  ASSERT_EQ(schema.size(), 2u);
  EXPECT_EQ(schema[0]["function"]["name"], "embed");
  EXPECT_EQ(schema[1]["function"]["name"], "similarity");
  EXPECT_FALSE(schema[1]["function"]["description"].get<std::string>().empty());
  EXPECT_EQ(tool.registry().mcp_tools()[1]["inputSchema"]["required"], Json({"text", "candidates"}));
}

}  // namespace
}  // namespace arrowembed::tool

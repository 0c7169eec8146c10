// Request bodies: what each route accepts, and the status and field named
// for everything it refuses.
#include "server/api_requests.h"

#include <gtest/gtest.h>

#include "server/api_error.h"

namespace arrowembed::server {
namespace {

const RequestLimits kLimits{.max_inputs = 3, .hidden_size = 384, .auto_truncate = false};

// Runs `parse` and returns the ApiError it throws (fails the test if none).
template <typename F>
ApiError refusal(F parse) {
  try {
    parse();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no ApiError thrown";
  return ApiError(0, "");
}

TEST(ApiRequests, TeiEmbedStringOrList) {
  auto one = parse_tei_embed(R"({"inputs":"héllo"})", kLimits);
  EXPECT_EQ(one.inputs, std::vector<std::string>{"héllo"});
  EXPECT_TRUE(one.normalize);
  EXPECT_FALSE(one.truncate);
  EXPECT_FALSE(one.dimensions);
  auto many = parse_tei_embed(R"({"inputs":["a",""],"normalize":false,"truncate":true,"dimensions":64})", kLimits);
  EXPECT_EQ(many.inputs, (std::vector<std::string>{"a", ""}));
  EXPECT_FALSE(many.normalize);
  EXPECT_TRUE(many.truncate);
  EXPECT_EQ(many.dimensions, 64u);
  // null means "not given", as in TEI
  EXPECT_TRUE(parse_tei_embed(R"({"inputs":"a","normalize":null})", kLimits).normalize);
  EXPECT_TRUE(parse_tei_embed(R"({"inputs":"a"})", {.max_inputs = 3, .hidden_size = 384, .auto_truncate = true})
                  .truncate);
}

TEST(ApiRequests, OpenAiEmbeddings) {
  auto r = parse_openai_embeddings(R"({"input":["x"],"model":"m","encoding_format":"base64","user":"u"})", kLimits);
  EXPECT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.base64);
  EXPECT_FALSE(parse_openai_embeddings(R"({"input":"x","encoding_format":"float"})", kLimits).base64);
  EXPECT_EQ(refusal([] { parse_openai_embeddings(R"({"input":"x","encoding_format":"hex"})", kLimits); }).field(),
            "encoding_format");
  EXPECT_EQ(refusal([] { parse_openai_embeddings(R"({"inputs":"x"})", kLimits); }).field(), "input");
}

TEST(ApiRequests, RefusalsNameTheField) {
  struct Case {
    const char* body;
    int status;
    const char* field;
  };
  const Case cases[] = {
      {R"({"inputs":5})", 422, "inputs"},
      {R"({"inputs":[]})", 422, "inputs"},
      {R"({"inputs":["a","b","c","d"]})", 422, "inputs"},
      {R"({"inputs":["a",7]})", 422, "inputs[1]"},
      {R"({"inputs":[[101,102]]})", 422, "inputs[0]"},
      {R"({"inputs":"a","normalize":"yes"})", 422, "normalize"},
      {R"({"inputs":"a","truncate":1})", 422, "truncate"},
      {R"({"inputs":"a","dimensions":0})", 422, "dimensions"},
      {R"({"inputs":"a","dimensions":385})", 422, "dimensions"},
      {R"({"inputs":"a","dimensions":1.5})", 422, "dimensions"},
      {R"({})", 422, "inputs"},
      {R"([1,2])", 422, ""},
      {R"({"inputs":)", 400, ""},
      {"", 400, ""},
  };
  for (const Case& c : cases) {
    const ApiError e = refusal([&] { parse_tei_embed(c.body, kLimits); });
    EXPECT_EQ(e.status(), c.status) << c.body;
    EXPECT_EQ(e.field(), c.field) << c.body;
    if (*c.field) EXPECT_NE(std::string(e.what()).find(c.field), std::string::npos) << e.what();
  }
}

TEST(ApiRequests, InvalidUtf8IsA400) {
  const std::string body = "{\"inputs\":\"a\xff\xfe\"}";
  const ApiError e = refusal([&] { parse_tei_embed(body, kLimits); });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos);
}

TEST(ApiRequests, SimilaritySourceOrPairs) {
  auto s = parse_similarity(R"({"inputs":{"source_sentence":"a","sentences":["b","c"]}})", kLimits);
  ASSERT_TRUE(s.source);
  EXPECT_EQ(*s.source, "a");
  EXPECT_EQ(s.sentences, (std::vector<std::string>{"b", "c"}));
  auto p = parse_similarity(R"({"pairs":[["a","b"]],"truncate":true})", kLimits);
  ASSERT_EQ(p.pairs.size(), 1u);
  EXPECT_EQ(p.pairs[0].second, "b");
  EXPECT_TRUE(p.truncate);

  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[["a"]]})", kLimits); }).field(), "pairs[0]");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[["a",1]]})", kLimits); }).field(), "pairs[0][1]");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[]})", kLimits); }).field(), "pairs");
  // 2 texts per pair: 2 pairs exceed a limit of 3 inputs
  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[["a","b"],["c","d"]]})", kLimits); }).field(), "pairs");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":"a"})", kLimits); }).field(), "inputs");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":{"sentences":["b"]}})", kLimits); }).field(),
            "inputs.source_sentence");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":{"source_sentence":"a","sentences":[]}})", kLimits); })
                .field(),
            "inputs.sentences");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":{"source_sentence":"a","sentences":["b",2]}})", kLimits); })
                .field(),
            "inputs.sentences[1]");
  EXPECT_EQ(refusal([] { parse_similarity(R"({})", kLimits); }).field(), "inputs");
}

TEST(ApiRequests, Tokenize) {
  auto t = parse_tokenize(R"({"inputs":"a","add_special_tokens":false})", kLimits);
  EXPECT_TRUE(t.single);
  EXPECT_FALSE(t.add_special_tokens);
  EXPECT_FALSE(t.truncate);
  EXPECT_FALSE(parse_tokenize(R"({"inputs":["a","b"]})", kLimits).single);
}

}  // namespace
}  // namespace arrowembed::server

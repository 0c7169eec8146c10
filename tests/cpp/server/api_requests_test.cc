// Request bodies: what each route accepts, and the status and field named
// for everything it refuses.
#include "server/api_requests.h"

#include <gtest/gtest.h>

#include "arrowembed/service/service_error.h"

namespace arrowembed::server {
namespace {

using service::ErrorKind;
using service::ServiceError;

// Runs `parse` and returns the ServiceError it throws (fails the test if none).
template <typename F>
ServiceError refusal(F parse) {
  try {
    parse();
  } catch (const ServiceError& e) {
    return e;
  }
  ADD_FAILURE() << "no ServiceError thrown";
  return ServiceError(ErrorKind::Internal, "");
}

TEST(ApiRequests, TeiEmbedStringOrList) {
  auto one = parse_tei_embed(R"({"inputs":"héllo"})").request;
  EXPECT_EQ(one.texts, std::vector<std::string>{"héllo"});
  EXPECT_EQ(one.fields.item(0), "inputs");  // a single string is named as such
  EXPECT_TRUE(one.normalize);
  EXPECT_FALSE(one.truncate);  // unset: the model's default
  EXPECT_FALSE(one.dimensions);
  EXPECT_TRUE(one.model.empty());
  auto many = parse_tei_embed(R"({"inputs":["a",""],"normalize":false,"truncate":true,"dimensions":64,"model":"x"})")
                  .request;
  EXPECT_EQ(many.texts, (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(many.fields.item(1), "inputs[1]");
  EXPECT_EQ(many.fields.list, "inputs");
  EXPECT_FALSE(many.normalize);
  EXPECT_EQ(many.truncate, true);
  EXPECT_EQ(many.dimensions, 64u);
  EXPECT_EQ(many.model, "x");
  // null means "not given", as in TEI
  EXPECT_TRUE(parse_tei_embed(R"({"inputs":"a","normalize":null})").request.normalize);
}

TEST(ApiRequests, OpenAiEmbeddings) {
  auto b = parse_openai_embeddings(R"({"input":["x"],"model":"m","encoding_format":"base64","user":"u"})");
  EXPECT_EQ(b.request.texts.size(), 1u);
  EXPECT_EQ(b.request.model, "m");
  EXPECT_EQ(b.request.fields.item(0), "input[0]");
  EXPECT_TRUE(b.base64);
  EXPECT_FALSE(parse_openai_embeddings(R"({"input":"x","encoding_format":"float"})").base64);
  EXPECT_EQ(refusal([] { parse_openai_embeddings(R"({"input":"x","encoding_format":"hex"})"); }).field(),
            "encoding_format");
  EXPECT_EQ(refusal([] { parse_openai_embeddings(R"({"inputs":"x"})"); }).field(), "input");
  EXPECT_EQ(refusal([] { parse_openai_embeddings(R"({"input":"x","model":7})"); }).field(), "model");
}

TEST(ApiRequests, RefusalsNameTheField) {
  struct Case {
    const char* body;
    ErrorKind kind;
    const char* field;
  };
  // How many inputs and how large `dimensions` may be are the service's checks.
  const Case cases[] = {
      {R"({"inputs":5})", ErrorKind::InvalidInput, "inputs"},
      {R"({"inputs":[]})", ErrorKind::InvalidInput, "inputs"},
      {R"({"inputs":["a",7]})", ErrorKind::InvalidInput, "inputs[1]"},
      {R"({"inputs":[[101,102]]})", ErrorKind::InvalidInput, "inputs[0]"},
      {R"({"inputs":"a","normalize":"yes"})", ErrorKind::InvalidInput, "normalize"},
      {R"({"inputs":"a","truncate":1})", ErrorKind::InvalidInput, "truncate"},
      {R"({"inputs":"a","dimensions":0})", ErrorKind::InvalidInput, "dimensions"},
      {R"({"inputs":"a","dimensions":1.5})", ErrorKind::InvalidInput, "dimensions"},
      {R"({})", ErrorKind::InvalidInput, "inputs"},
      {R"([1,2])", ErrorKind::InvalidInput, ""},
      {R"({"inputs":)", ErrorKind::Malformed, ""},
      {"", ErrorKind::Malformed, ""},
  };
  for (const Case& c : cases) {
    const ServiceError e = refusal([&] { parse_tei_embed(c.body); });
    EXPECT_EQ(e.kind(), c.kind) << c.body;
    EXPECT_EQ(e.field(), c.field) << c.body;
    if (*c.field) EXPECT_NE(std::string(e.what()).find(c.field), std::string::npos) << e.what();
  }
}

TEST(ApiRequests, InvalidUtf8IsMalformed) {
  const std::string body = "{\"inputs\":\"a\xff\xfe\"}";
  const ServiceError e = refusal([&] { parse_tei_embed(body); });
  EXPECT_EQ(e.kind(), ErrorKind::Malformed);
  EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos);
}

TEST(ApiRequests, SimilaritySourceOrPairs) {
  auto s = parse_similarity(R"({"inputs":{"source_sentence":"a","sentences":["b","c"]}})");
  ASSERT_TRUE(s.source);
  EXPECT_EQ(*s.source, "a");
  EXPECT_EQ(s.sentences, (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(s.truncate);
  auto p = parse_similarity(R"({"pairs":[["a","b"]],"truncate":true,"model":"m"})");
  ASSERT_EQ(p.pairs.size(), 1u);
  EXPECT_EQ(p.pairs[0].second, "b");
  EXPECT_EQ(p.truncate, true);
  EXPECT_EQ(p.model, "m");

  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[["a"]]})"); }).field(), "pairs[0]");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[["a",1]]})"); }).field(), "pairs[0][1]");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"pairs":[]})"); }).field(), "pairs");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":"a"})"); }).field(), "inputs");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":{"sentences":["b"]}})"); }).field(),
            "inputs.source_sentence");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":{"source_sentence":"a","sentences":[]}})"); })
                .field(),
            "inputs.sentences");
  EXPECT_EQ(refusal([] { parse_similarity(R"({"inputs":{"source_sentence":"a","sentences":["b",2]}})"); })
                .field(),
            "inputs.sentences[1]");
  EXPECT_EQ(refusal([] { parse_similarity(R"({})"); }).field(), "inputs");
}

TEST(ApiRequests, Tokenize) {
  auto t = parse_tokenize(R"({"inputs":"a","add_special_tokens":false,"model":"m"})");
  EXPECT_EQ(t.request.fields.item(0), "inputs");
  EXPECT_FALSE(t.add_special_tokens);
  EXPECT_FALSE(t.request.truncate);
  EXPECT_EQ(t.request.model, "m");
  EXPECT_EQ(parse_tokenize(R"({"inputs":["a","b"]})").request.fields.item(1), "inputs[1]");
}

}  // namespace
}  // namespace arrowembed::server

// The registry: listing in both formats, validation errors that name the
// field, and calls reaching the handler only with valid arguments.
#include "arrowembed/tool/tool_registry.h"

#include <gtest/gtest.h>

#include "arrowembed/error.h"
#include "arrowembed/service/service_error.h"

namespace arrowembed::tool {
namespace {

using service::ErrorKind;
using service::ServiceError;

ToolRegistry echo_registry(int* calls) {
  ToolRegistry r;
  r.add({"echo", "Returns its arguments.",
         {{"type", "object"},
          {"properties",
           {{"words", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}}},
            {"times", {{"type", "integer"}, {"minimum", 1}, {"maximum", 3}}},
            {"options", {{"type", "object"}, {"properties", {{"loud", {{"type", "boolean"}}}}}, {"additionalProperties", false}}}}},
          {"required", {"words"}},
          {"additionalProperties", false}}},
        [calls](const Json& a) {
          ++*calls;
          return Json{{"got", a}};
        });
  return r;
}

ServiceError refusal(const ToolRegistry& r, const std::string& name, const Json& arguments) {
  try {
    r.call(name, arguments);
  } catch (const ServiceError& e) {
    return e;
  }
  ADD_FAILURE() << "no ServiceError for " << arguments.dump();
  return ServiceError(ErrorKind::Internal, "");
}

TEST(ToolRegistry, ListsInOpenAiAndMcpFormats) {
  int calls = 0;
  const ToolRegistry r = echo_registry(&calls);
  ASSERT_EQ(r.list().size(), 1u);
  EXPECT_TRUE(r.has("echo"));
  EXPECT_FALSE(r.has("other"));
  const Json openai = r.openai_tools();
  EXPECT_EQ(openai[0]["type"], "function");
  EXPECT_EQ(openai[0]["function"]["name"], "echo");
  EXPECT_EQ(openai[0]["function"]["parameters"]["required"][0], "words");
  const Json mcp = r.mcp_tools();
  EXPECT_EQ(mcp[0]["name"], "echo");
  EXPECT_EQ(mcp[0]["description"], "Returns its arguments.");
  EXPECT_EQ(mcp[0]["inputSchema"]["type"], "object");
}

TEST(ToolRegistry, ValidArgumentsReachTheHandler) {
  int calls = 0;
  const ToolRegistry r = echo_registry(&calls);
  const Json out = r.call("echo", {{"words", {"a", "b"}}, {"times", 2}, {"options", {{"loud", true}}}});
  EXPECT_EQ(out["got"]["words"][1], "b");
  EXPECT_EQ(calls, 1);
}

TEST(ToolRegistry, InvalidArgumentsNameTheFieldAndNeverReachTheHandler) {
  int calls = 0;
  const ToolRegistry r = echo_registry(&calls);
  struct Case {
    Json arguments;
    const char* field;
    const char* says;
  };
  const Case cases[] = {
      {Json::object(), "words", "is required"},
      {{{"words", Json::array()}}, "words", ""},
      {{{"words", {"a", 7}}}, "words[1]", ""},
      {{{"words", "a"}}, "words", ""},
      {{{"words", {"a"}}, {"times", 9}}, "times", ""},
      {{{"words", {"a"}}, {"times", 1.5}}, "times", ""},
      {{{"words", {"a"}}, {"colour", "red"}}, "colour", "is not an argument of 'echo' (its arguments: words, times, options)"},
      {{{"words", {"a"}}, {"options", {{"loud", "yes"}}}}, "options.loud", ""},
      {{{"words", {"a"}}, {"options", {{"quiet", true}}}}, "options.quiet", "is not an argument"},
      {Json::array({1, 2}), "", ""},
  };
  for (const Case& c : cases) {
    const ServiceError e = refusal(r, "echo", c.arguments);
    EXPECT_EQ(e.kind(), ErrorKind::InvalidInput) << c.arguments.dump();
    EXPECT_EQ(e.field(), c.field) << c.arguments.dump() << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 0);
  const ServiceError unknown = refusal(r, "nope", Json::object());
  EXPECT_EQ(unknown.field(), "name");
  EXPECT_NE(std::string(unknown.what()).find("tools: echo"), std::string::npos) << unknown.what();
}

TEST(ToolRegistry, DuplicateNamesAndUnreadableSchemasAreRefused) {
  int calls = 0;
  ToolRegistry r = echo_registry(&calls);
  EXPECT_THROW(r.add({"echo", "again", {{"type", "object"}}}, [](const Json&) { return Json(); }), Error);
  EXPECT_THROW(r.add({"bad", "bad schema", {{"type", 5}}}, [](const Json&) { return Json(); }), Error);
}

}  // namespace
}  // namespace arrowembed::tool

// The MCP server's JSON-RPC handling, on a registry with one tool: the
// handshake and version negotiation, tools/list and tools/call, and every
// error the spec names.
#include "arrowembed/mcp/mcp_server.h"

#include <gtest/gtest.h>

#include <sstream>

#include "arrowembed/service/service_error.h"

namespace arrowembed::mcp {
namespace {

using tool::Json;

tool::ToolRegistry registry() {
  tool::ToolRegistry r;
  r.add({"double", "Doubles a number.",
         {{"type", "object"},
          {"properties", {{"x", {{"type", "number"}}}}},
          {"required", {"x"}},
          {"additionalProperties", false}}},
        [](const Json& a) {
          const double x = a["x"].get<double>();
          if (x < 0) throw service::ServiceError(service::ErrorKind::InvalidInput, "'x' must not be negative", "x");
          return Json{{"result", 2 * x}};
        });
  return r;
}

class McpServerTest : public ::testing::Test {
 protected:
  McpServerTest() : tools_(registry()), server_(tools_, "test", "1.0", "hello") {}
  Json ask(const Json& message) {
    const auto out = server_.handle(message.dump());
    EXPECT_TRUE(out) << message.dump();
    return out ? Json::parse(*out) : Json();
  }
  static Json request(int id, const std::string& method, Json params = Json::object()) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  }
  tool::ToolRegistry tools_;
  McpServer server_;
};

TEST_F(McpServerTest, InitializeNegotiatesTheVersion) {
  const Json r = ask(request(1, "initialize", {{"protocolVersion", "2025-03-26"}, {"capabilities", Json::object()}}));
  EXPECT_EQ(r["id"], 1);
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-03-26");
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "test");
  EXPECT_EQ(r["result"]["instructions"], "hello");
  EXPECT_TRUE(r["result"]["capabilities"].contains("tools"));
  // A version we do not speak: we offer our newest.
  EXPECT_EQ(ask(request(2, "initialize", {{"protocolVersion", "1999-01-01"}}))["result"]["protocolVersion"],
            kProtocolVersions[0]);
  EXPECT_TRUE(is_supported_protocol_version("2024-11-05"));
  EXPECT_FALSE(is_supported_protocol_version("2026-07-28"));
}

TEST_F(McpServerTest, ListAndCallTools) {
  const Json list = ask(request(3, "tools/list"));
  ASSERT_EQ(list["result"]["tools"].size(), 1u);
  EXPECT_EQ(list["result"]["tools"][0]["name"], "double");
  EXPECT_EQ(list["result"]["tools"][0]["inputSchema"]["required"][0], "x");
  const Json call = ask(request(4, "tools/call", {{"name", "double"}, {"arguments", {{"x", 21}}}}));
  EXPECT_FALSE(call["result"]["isError"].get<bool>());
  EXPECT_EQ(call["result"]["structuredContent"]["result"], 42.0);
  EXPECT_EQ(Json::parse(call["result"]["content"][0]["text"].get<std::string>())["result"], 42.0);
  EXPECT_EQ(ask(request(5, "ping"))["result"], Json::object());
}

TEST_F(McpServerTest, ToolFailuresAreResultsTheModelCanRead) {
  const Json bad = ask(request(6, "tools/call", {{"name", "double"}, {"arguments", {{"x", "two"}}}}));
  EXPECT_TRUE(bad["result"]["isError"].get<bool>());
  EXPECT_EQ(bad["result"]["structuredContent"]["field"], "x");
  EXPECT_EQ(bad["result"]["structuredContent"]["kind"], "invalid_input");
  const Json refused = ask(request(7, "tools/call", {{"name", "double"}, {"arguments", {{"x", -1}}}}));
  EXPECT_TRUE(refused["result"]["isError"].get<bool>());
  EXPECT_EQ(refused["result"]["content"][0]["text"], "'x' must not be negative");
  const Json missing = ask(request(8, "tools/call", {{"name", "double"}}));  // no arguments: {}
  EXPECT_EQ(missing["result"]["structuredContent"]["field"], "x");
}

TEST_F(McpServerTest, ProtocolErrors) {
  auto code = [&](const std::string& text) {
    const auto out = server_.handle(text);
    EXPECT_TRUE(out) << text;
    return out ? Json::parse(*out)["error"]["code"].get<int>() : 0;
  };
  EXPECT_EQ(code("not json"), -32700);
  EXPECT_EQ(code(R"({"id":1,"method":"ping"})"), -32600);              // no jsonrpc
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":{},"method":"ping"})"), -32600);  // bad id
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":7})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})"), -32601);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})"), -32602);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})"), -32602);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"double","arguments":[1]}})"),
            -32602);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})"), -32602);
  EXPECT_EQ(code("[]"), -32600);
  EXPECT_EQ(code("\"hello\""), -32600);  // valid JSON, not a message
  EXPECT_EQ(code("\"\\ud800\""), -32700);  // a lone surrogate is not valid JSON text
}

TEST_F(McpServerTest, NotificationsAndResponsesGetNoAnswerAndBatchesAnswerEachRequest) {
  EXPECT_FALSE(server_.handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_FALSE(server_.handle(R"({"jsonrpc":"2.0","id":9,"result":{}})"));
  const auto out = server_.handle(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},)"
                                  R"({"jsonrpc":"2.0","method":"notifications/initialized"},)"
                                  R"({"jsonrpc":"2.0","id":"b","method":"tools/list"}])");
  ASSERT_TRUE(out);
  const Json batch = Json::parse(*out);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1]["id"], "b");
}

TEST_F(McpServerTest, StdioOneMessagePerLine) {
  std::istringstream in(request(1, "ping").dump() + "\n\n" +
                        R"({"jsonrpc":"2.0","method":"notifications/initialized"})" + "\n" +
                        request(2, "tools/list").dump() + "\n");
  std::ostringstream out;
  EXPECT_EQ(server_.run_stdio(in, out), 0);
  std::istringstream lines(out.str());
  std::string line;
  std::vector<Json> answers;
  while (std::getline(lines, line)) answers.push_back(Json::parse(line));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0]["id"], 1);
  EXPECT_EQ(answers[1]["id"], 2);
}

}  // namespace
}  // namespace arrowembed::mcp

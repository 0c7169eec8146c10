#include "arrowembed/mcp/mcp_server.h"

#include "arrowembed/service/service_error.h"

namespace arrowembed::mcp {

namespace {

using tool::Json;

// JSON-RPC 2.0 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

Json error_response(const Json& id, int code, const std::string& message, Json data = nullptr) {
  Json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = std::move(data);
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

Json result_response(const Json& id, Json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A tool's failure as MCP wants it: a result the model reads, with the
// error's kind and field as structured content.
Json tool_error(const std::string& message, std::string_view kind, const std::string& field) {
  Json detail = {{"error", message}, {"kind", kind}};
  if (!field.empty()) detail["field"] = field;
  return {{"content", Json::array({{{"type", "text"}, {"text", message}}})},
          {"structuredContent", std::move(detail)},
          {"isError", true}};
}

}  // namespace

bool is_supported_protocol_version(std::string_view version) {
  for (const char* v : kProtocolVersions) {
    if (version == v) return true;
  }
  return false;
}

McpServer::McpServer(const tool::ToolRegistry& tools, std::string name, std::string version, std::string instructions)
    : tools_(tools), name_(std::move(name)), version_(std::move(version)), instructions_(std::move(instructions)) {}

Json McpServer::call_tool(const Json& params) const {
  const std::string name = params["name"].get<std::string>();
  const Json arguments = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"] : Json::object();
  try {
    Json result = tools_.call(name, arguments);
    return {{"content", Json::array({{{"type", "text"}, {"text", dump(result)}}})},
            {"structuredContent", std::move(result)},
            {"isError", false}};
  } catch (const service::ServiceError& e) {
    return tool_error(e.what(), service::error_kind_name(e.kind()), e.field());
  } catch (const Error& e) {
    return tool_error(e.what(), "invalid_input", "");
  }
}

Json McpServer::dispatch(const Json& message) const {
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0") {
    return error_response(message.is_object() && message.contains("id") ? message["id"] : Json(nullptr),
                          kInvalidRequest, "not a JSON-RPC 2.0 message");
  }
  const bool is_request = message.contains("id");
  if (!message.contains("method")) return nullptr;  // a response to us (we send no requests): nothing to do
  const Json id = is_request ? message["id"] : Json(nullptr);
  if (is_request && !(id.is_string() || id.is_number_integer())) {
    return error_response(nullptr, kInvalidRequest, "'id' must be a string or an integer");
  }
  if (!message["method"].is_string()) return error_response(id, kInvalidRequest, "'method' must be a string");
  const std::string method = message["method"].get<std::string>();
  const Json params = message.contains("params") ? message["params"] : Json::object();
  if (!params.is_object()) return is_request ? error_response(id, kInvalidParams, "'params' must be an object") : nullptr;
  if (!is_request) return nullptr;  // notifications (initialized, cancelled, ...) need no answer

  try {
    if (method == "initialize") {
      const std::string asked = params.value("protocolVersion", "");
      const std::string version = is_supported_protocol_version(asked) ? asked : kProtocolVersions[0];
      Json result = {{"protocolVersion", version},
                     {"capabilities", {{"tools", {{"listChanged", false}}}}},
                     {"serverInfo", {{"name", name_}, {"version", version_}}}};
      if (!instructions_.empty()) result["instructions"] = instructions_;
      return result_response(id, std::move(result));
    }
    if (method == "ping") return result_response(id, Json::object());
    if (method == "tools/list") return result_response(id, {{"tools", tools_.mcp_tools()}});
    if (method == "tools/call") {
      if (!params.contains("name") || !params["name"].is_string()) {
        return error_response(id, kInvalidParams, "tools/call needs 'name', a string");
      }
      if (params.contains("arguments") && !params["arguments"].is_object() && !params["arguments"].is_null()) {
        return error_response(id, kInvalidParams, "'arguments' must be an object");
      }
      if (!tools_.has(params["name"].get<std::string>())) {
        return error_response(id, kInvalidParams, "unknown tool '" + params["name"].get<std::string>() + "'");
      }
      return result_response(id, call_tool(params));
    }
    return error_response(id, kMethodNotFound, "method '" + method + "' is not supported");
  } catch (const std::exception& e) {
    return error_response(id, kInternalError, std::string("internal error: ") + e.what());
  }
}

std::optional<std::string> McpServer::handle(std::string_view message) const {
  Json parsed;
  try {
    parsed = Json::parse(message);
  } catch (const Json::parse_error& e) {
    return dump(error_response(nullptr, kParseError, std::string("not JSON: ") + e.what()));
  }
  if (parsed.is_array()) {  // a batch (2025-03-26); an empty one is invalid
    if (parsed.empty()) return dump(error_response(nullptr, kInvalidRequest, "an empty batch"));
    Json responses = Json::array();
    for (const Json& m : parsed) {
      Json r = dispatch(m);
      if (!r.is_null()) responses.push_back(std::move(r));
    }
    if (responses.empty()) return std::nullopt;
    return dump(responses);
  }
  Json response = dispatch(parsed);
  if (response.is_null()) return std::nullopt;
  return dump(response);
}

int McpServer::run_stdio(std::istream& in, std::ostream& out) const {
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (const auto response = handle(line)) {
      out << *response << '\n';
      out.flush();
    }
  }
  return 0;
}

}  // namespace arrowembed::mcp

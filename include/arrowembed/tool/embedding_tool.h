#pragma once
// The EmbeddingTool: what an LLM (or any agent) calls to embed texts,
// compare them, and search collections, on the service layer. Each action
// is a tool in a ToolRegistry, with a JSON Schema an LLM can fill in:
//
//   tool::EmbeddingTool tool(service);
//   Json schema = tool.get_schema();   // OpenAI function tools, one per action
//   Json out = tool.execute("similarity", {{"text", "a cat"}, {"candidates", {"a kitten", "a car"}}});
#include <string>

#include "arrowembed/service/embedding_service.h"
#include "arrowembed/tool/tool_registry.h"

namespace arrowembed::tool {

class EmbeddingTool {
 public:
  // The service must outlive the tool. "search" is offered when the service
  // has collections attached.
  explicit EmbeddingTool(const service::EmbeddingService& service);

  // Runs an action ("embed", "similarity", "search") with its arguments,
  // validated against its schema first. Throws ServiceError (see ToolRegistry::call).
  Json execute(const std::string& action, const Json& arguments) const;

  // The actions in OpenAI's function-tool format (registry().mcp_tools()
  // gives the same as MCP tools).
  Json get_schema() const { return registry_.openai_tools(); }
  const ToolRegistry& registry() const { return registry_; }

 private:
  Json embed(const Json& arguments) const;
  Json similarity(const Json& arguments) const;
  Json search(const Json& arguments) const;

  const service::EmbeddingService& service_;
  ToolRegistry registry_;
};

}  // namespace arrowembed::tool

#pragma once
// Tools an LLM can call: each a name, a description an LLM can act on, a
// JSON Schema of its arguments and a handler. The registry lists them in
// OpenAI's function-tool format and as MCP tools, and calls them with the
// arguments validated against the schema first (valijson, from Debian), so
// a bad or missing field is a ServiceError naming it, never a crash.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arrowembed::tool {

using Json = nlohmann::ordered_json;

// A float as a JSON number: the shortest decimal that reads back to it
// (nlohmann would print the double it widens to, with twice the digits).
double json_float(float value);

struct ToolInfo {
  std::string name;
  std::string description;
  Json input_schema;  // JSON Schema (draft 7 subset) of the arguments object
};

class ToolRegistry {
 public:
  using Handler = std::function<Json(const Json& arguments)>;

  ToolRegistry();
  ~ToolRegistry();
  ToolRegistry(ToolRegistry&&) noexcept;
  ToolRegistry& operator=(ToolRegistry&&) noexcept;

  // Adds a tool; throws Error for a duplicate name or a schema valijson cannot read.
  void add(ToolInfo info, Handler handler);

  std::vector<ToolInfo> list() const;  // in the order added
  bool has(const std::string& name) const;
  // [{"type": "function", "function": {"name", "description", "parameters"}}, ...]
  Json openai_tools() const;
  // [{"name", "description", "inputSchema"}, ...]
  Json mcp_tools() const;

  // Validates `arguments` against the tool's schema, then runs it. Throws
  // ServiceError: InvalidInput naming the field ("texts[2]") for arguments
  // the schema refuses, or naming "name" for a tool that does not exist;
  // whatever the handler throws otherwise.
  Json call(const std::string& name, const Json& arguments) const;

 private:
  struct Entry;
  std::vector<std::unique_ptr<Entry>> tools_;
};

}  // namespace arrowembed::tool

#pragma once
// The Model Context Protocol over the ToolRegistry: JSON-RPC 2.0 messages
// in, responses out, independent of the transport. `arrowembed mcp` runs it
// over stdio (one message per line); `serve` offers it at /mcp (Streamable
// HTTP, one JSON response per POST). Only this layer knows JSON-RPC.
//
// Implements the initialize handshake with version negotiation (2024-11-05
// to 2025-11-25), ping, tools/list and tools/call. Tool failures (a bad
// argument, a model or collection that is not served) are results with
// isError, which an LLM can read and correct; unknown methods, malformed
// messages and unknown tools are JSON-RPC errors.
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "arrowembed/tool/tool_registry.h"

namespace arrowembed::mcp {

// Newest first; the first is offered when the client asks for another.
inline constexpr const char* kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
bool is_supported_protocol_version(std::string_view version);

// What the server tells a client it is for (initialize's `instructions`).
inline constexpr const char* kDefaultInstructions =
    "Embeddings, semantic similarity and semantic search over document collections, with local "
    "sentence-embedding models. Use `search` to find documents by meaning, `similarity` to compare texts, "
    "`embed` for the vectors themselves.";

class McpServer {
 public:
  // The registry must outlive the server.
  McpServer(const tool::ToolRegistry& tools, std::string name, std::string version, std::string instructions = {});

  // One JSON-RPC message or batch; the response to send back, or nothing
  // for notifications and responses. Never throws for bad input.
  std::optional<std::string> handle(std::string_view message) const;

  // Reads newline-delimited messages until end of input, writing each
  // response on one line and flushing. Returns 0.
  int run_stdio(std::istream& in, std::ostream& out) const;

 private:
  tool::Json dispatch(const tool::Json& message) const;  // null for no response
  tool::Json call_tool(const tool::Json& params) const;

  const tool::ToolRegistry& tools_;
  std::string name_, version_, instructions_;
};

}  // namespace arrowembed::mcp

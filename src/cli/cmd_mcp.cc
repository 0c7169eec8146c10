// arrowembed mcp -m MODEL [--model NAME=PATH ...] [-c NAME=DIR ...]: the embedding tools as a
// Model Context Protocol server over stdio, for an LLM client to start
// (docs/tools.md). Messages on stdin and stdout, one per line; logs on stderr.
#include <cstdio>
#include <iostream>
#include <memory>

#include "arrowembed/mcp/mcp_server.h"
#include "arrowembed/service/embedding_service.h"
#include "arrowembed/tool/embedding_tool.h"
#include "arrowembed/version.h"
#include "cli/commands.h"
#include "cli/engine_options.h"
#include "cli/model_arguments.h"

namespace arrowembed::cli {

namespace {

struct McpOptions {
  std::vector<std::string> models;
  std::vector<std::string> collections;
  std::string model_id;
  size_t threads = 0;
  MatmulPrecision precision = MatmulPrecision::F32;
  size_t cache_entries = 16384;
};

}  // namespace

void register_mcp(CLI::App& app) {
  auto o = std::make_shared<McpOptions>();
  auto* cmd = app.add_subcommand("mcp", "Serve the embedding tools over the Model Context Protocol on stdio");
  cmd->add_option("-m,--model", o->models, "A model: PATH or NAME=PATH; repeat for several (the first is the default)")
      ->required();
  cmd->add_option("-c,--collection", o->collections,
                  "A collection to offer to the search tool: NAME=DIR (made by `arrowembed index build`); repeatable");
  cmd->add_option("--model-id", o->model_id, "Name of a model given as a bare PATH (default: the file stem)");
  cmd->add_option("--threads", o->threads, "Forward-pass threads (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  add_precision_option(cmd, &o->precision);
  cmd->add_option("--cache-size", o->cache_entries, "Embeddings kept in the LRU cache (0 disables it)")
      ->capture_default_str();
  cmd->callback([o] {
    service::ServiceOptions options;
    options.engine_threads = o->threads;
    options.cache_entries = o->cache_entries;
    service::EmbeddingService service(options);
    for (const std::string& value : o->models) {
      bool named = false;
      service::ModelSpec spec = model_from_argument(value, o->models.size() == 1 ? o->model_id : std::string(), &named);
      spec.precision = o->precision;
      const service::LoadResult r = service.load(spec);
      std::fprintf(stderr, "arrowembed mcp: model '%s' loaded from %s in %.1f ms\n", r.model.name.c_str(),
                   r.model.path.c_str(), r.model.load_ms);
    }
    for (const std::string& value : o->collections) {
      const service::CollectionSpec spec = collection_from_argument(value);
      service.attach_collection(spec);
      std::fprintf(stderr, "arrowembed mcp: collection '%s' from %s\n", spec.name.c_str(), spec.path.c_str());
    }
    const tool::EmbeddingTool tool(service);
    const mcp::McpServer server(tool.registry(), "arrowembed", ARROWEMBED_VERSION, mcp::kDefaultInstructions);
    std::ios::sync_with_stdio(false);
    server.run_stdio(std::cin, std::cout);
    service.stop();
  });
}

}  // namespace arrowembed::cli

// arrowembed search -m MODEL -c DIR --query TEXT [--query ...] [-k 10] [--filter COL=VALUE] [--mode auto|exact|approx]
// One JSON line per hit: {"query","id","score","text", ...metadata}, best first per query.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arrowembed/collection/collection.h"
#include "arrowembed/engine/embedder.h"
#include "arrowembed/engine/engine_pool.h"
#include "arrowembed/error.h"
#include "cli/commands.h"

namespace arrowembed::cli {

namespace {

struct SearchArgs {
  std::string model;
  std::string dir;
  std::vector<std::string> queries;
  size_t k = 10;
  std::vector<std::string> filters;
  std::string mode = "auto";
  size_t threads = 0;
};

collection::Filter parse_filter(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("--filter '" + text + "' is not COLUMN=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

void run_search(const SearchArgs& args) {
  static const std::map<std::string, collection::SearchMode> modes = {
      {"auto", collection::SearchMode::Auto},
      {"exact", collection::SearchMode::Exact},
      {"approx", collection::SearchMode::Approx}};
  const auto mode = modes.at(args.mode);
  std::vector<collection::Filter> filters;
  for (const auto& f : args.filters) filters.push_back(parse_filter(f));
  const auto c = collection::Collection::open(args.dir);
  // One pool for the embedding and the search.
  auto pool = EnginePool::create(args.threads);
  EmbedderOptions options;
  options.pool = pool;
  const Embedder embedder = Embedder::load(args.model, options);
  c.require_model(collection::model_fingerprint(embedder, std::filesystem::path(args.model).filename().string()));
  std::vector<std::string_view> texts(args.queries.begin(), args.queries.end());
  const std::vector<float> vectors = embedder.embed(texts);
  const auto results = c.search(vectors, args.k, filters, mode, pool.get());
  for (size_t q = 0; q < results.size(); ++q)
    for (const auto& hit : results[q]) {
      nlohmann::ordered_json line = {{"query", args.queries[q]}, {"id", hit.id}, {"score", hit.score}, {"text", hit.text}};
      for (const auto& [name, value] : hit.metadata) line[name] = value;
      std::puts(line.dump().c_str());
    }
}

}  // namespace

void register_search(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand("search", "Search a collection with text queries (JSON lines out)");
  cmd->add_option("-m,--model", args->model, "The model the collection was built with")->required();
  cmd->add_option("-c,--collection", args->dir, "Collection directory")->required();
  cmd->add_option("-q,--query", args->queries, "Query text (repeatable; queries are searched as one batch)")
      ->required();
  cmd->add_option("-k", args->k, "Hits per query")->check(CLI::Range(size_t{1}, size_t{10000}))->capture_default_str();
  cmd->add_option("--filter", args->filters, "COLUMN=VALUE: only documents whose metadata column (or id) equals VALUE");
  cmd->add_option("--mode", args->mode, "auto (exact when small or filtered), exact or approx (HNSW)")
      ->check(CLI::IsMember({"auto", "exact", "approx"}))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  cmd->callback([args] { run_search(*args); });
}

}  // namespace arrowembed::cli

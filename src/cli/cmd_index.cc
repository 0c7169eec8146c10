// arrowembed index build|add|delete|compact|info: collections of documents
// and their embeddings (docs/collections.md). Each subcommand is in its own
// cmd_index_<name>.cc.
#include "cli/commands.h"

namespace arrowembed::cli {

void register_index(CLI::App& app) {
  auto* index = app.add_subcommand("index", "Build and change collections (documents + embeddings, searchable)");
  index->require_subcommand(1);
  register_index_build(*index);
  register_index_add(*index);
  register_index_delete(*index);
  register_index_compact(*index);
  register_index_info(*index);
}

}  // namespace arrowembed::cli

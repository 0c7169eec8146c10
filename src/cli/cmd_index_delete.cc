// arrowembed index delete -c DIR --id ID [--id ID ...]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "arrowembed/collection/collection.h"
#include "cli/commands.h"

namespace arrowembed::cli {

void register_index_delete(CLI::App& index) {
  struct Args {
    std::string dir;
    std::vector<std::string> ids;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = index.add_subcommand("delete", "Delete documents by id (until compact, as tombstones in the manifest)");
  cmd->add_option("-c,--collection", args->dir, "Collection directory")->required();
  cmd->add_option("--id", args->ids, "Id of a document to delete (repeatable)")->required();
  cmd->callback([args] {
    auto c = collection::Collection::open(args->dir);
    const size_t deleted = c.remove(args->ids);
    std::printf("{\"deleted\":%zu,\"size\":%zu}\n", deleted, c.info().size);
  });
}

}  // namespace arrowembed::cli

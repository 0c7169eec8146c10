// arrowembed index compact -c DIR
#include <cstdio>
#include <memory>
#include <string>

#include "arrowembed/collection/collection.h"
#include "cli/commands.h"

namespace arrowembed::cli {

void register_index_compact(CLI::App& index) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = index.add_subcommand("compact", "Rewrite the live documents into one segment and rebuild the index");
  cmd->add_option("-c,--collection", *dir, "Collection directory")->required();
  cmd->callback([dir] {
    auto c = collection::Collection::open(*dir);
    c.compact();
    const auto info = c.info();
    std::printf("{\"size\":%zu,\"segments\":%zu}\n", info.size, info.segments);
  });
}

}  // namespace arrowembed::cli

// arrowembed index info DIR: the collection as JSON.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "arrowembed/collection/collection.h"
#include "cli/commands.h"

namespace arrowembed::cli {

void register_index_info(CLI::App& index) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = index.add_subcommand("info", "Print a collection's size, model, dtype and layout as JSON");
  cmd->add_option("dir", *dir, "Collection directory")->required();
  cmd->callback([dir] {
    const auto info = collection::Collection::open(*dir).info();
    const nlohmann::json j = {
        {"path", info.path.string()},
        {"size", info.size},
        {"dimension", info.dimension},
        {"dtype", std::string(dtype_name(info.dtype))},
        {"model",
         {{"name", info.model.model_name},
          {"digest", info.model.digest},
          {"dimension", info.model.dimension},
          {"normalized", info.model.normalized}}},
        {"segments", info.segments},
        {"deleted", info.deleted},
        {"index", info.has_index},
        {"metadata_columns", info.metadata_columns},
    };
    std::puts(j.dump(2).c_str());
  });
}

}  // namespace arrowembed::cli

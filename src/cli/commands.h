#pragma once
// Each `arrowembed` subcommand registers itself on the CLI11 app; its
// callback runs the command and throws arrowembed::Error on failure.
#include <CLI/CLI.hpp>

namespace arrowembed::cli {

void register_convert(CLI::App& app);
void register_info(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_embed(CLI::App& app);
void register_bench(CLI::App& app);
void register_serve(CLI::App& app);
void register_mcp(CLI::App& app);
void register_index(CLI::App& app);  // build, add, delete, compact, info (cmd_index_<name>.cc)
void register_index_build(CLI::App& index);
void register_index_add(CLI::App& index);
void register_index_delete(CLI::App& index);
void register_index_compact(CLI::App& index);
void register_index_info(CLI::App& index);
void register_search(CLI::App& app);

}  // namespace arrowembed::cli

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

}  // namespace arrowembed::cli

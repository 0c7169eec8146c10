// arrowembed: convert, inspect, run and serve sentence-embedding models.
#include <cstdio>
#include <exception>

#include "arrowembed/error.h"
#include "arrowembed/version.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"arrowembed " ARROWEMBED_VERSION " - sentence embeddings from one Arrow model file", "arrowembed"};
  app.set_version_flag("--version", ARROWEMBED_VERSION);
  app.require_subcommand(1);
  arrowembed::cli::register_convert(app);
  arrowembed::cli::register_info(app);
  arrowembed::cli::register_tokenize(app);
  arrowembed::cli::register_embed(app);
  arrowembed::cli::register_bench(app);
  arrowembed::cli::register_serve(app);
  arrowembed::cli::register_mcp(app);
  arrowembed::cli::register_index(app);
  arrowembed::cli::register_search(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const arrowembed::Error& e) {
    std::fprintf(stderr, "arrowembed: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arrowembed: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}

// arrowembed serve -m MODEL [--host H] [--port P] [...]: the HTTP service
// (see docs/api.md and docs/operations.md).
#include <cstdlib>
#include <memory>

#include "arrowembed/server/server.h"
#include "cli/commands.h"
#include "cli/engine_options.h"

namespace arrowembed::cli {

void register_serve(CLI::App& app) {
  auto options = std::make_shared<ServerOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve embeddings over HTTP (TEI- and OpenAI-compatible) until SIGTERM");
  cmd->add_option("-m,--model", options->model_path, "Model file (.arrow; .parquet and Hugging Face directories also work)")
      ->required();
  cmd->add_option("--model-id", options->model_id, "Name reported by /info and /v1/embeddings (default: the file stem)");
  cmd->add_option("--host", options->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "Port to listen on (0: any free port, printed in the 'listening' log line)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", options->engine_threads, "Forward-pass threads (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  add_precision_option(cmd, &options->precision);
  cmd->add_option("--http-threads", options->http_threads, "Connections served at once")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  cmd->add_option("--max-batch-tokens", options->max_batch_tokens, "Token budget of one engine batch")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--max-batch-wait-ms", options->max_batch_wait_ms,
                  "Extra wait for more inputs before a batch (0: none; requests arriving during a batch join the next)")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--max-queue-inputs", options->max_queue_inputs, "Inputs that may wait; beyond it requests get 429")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--max-inputs-per-request", options->max_inputs_per_request, "Texts one request may carry")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--max-payload-bytes", options->max_payload_bytes, "Largest request body (413 beyond)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32))
      ->capture_default_str();
  cmd->add_flag("--auto-truncate", options->auto_truncate,
                "Cut inputs longer than max_seq_length by default instead of answering 422");
  cmd->add_option("--cache-size", options->cache_entries, "Embeddings kept in the LRU cache (0 disables it)")
      ->capture_default_str();
  cmd->add_option("--api-key", options->api_key,
                  "Require 'Authorization: Bearer KEY' (default: $ARROWEMBED_API_KEY; empty: no auth)");
  cmd->add_option("--cors-allow-origin", options->cors_allow_origin, "'*' or comma-separated origins allowed by CORS");
  cmd->add_flag("!--no-request-log", options->log_requests, "Do not write a JSON log line per request");
  cmd->callback([options] {
    // A key from the environment keeps it out of `ps` output.
    if (options->api_key.empty()) {
      if (const char* key = std::getenv("ARROWEMBED_API_KEY")) options->api_key = key;
    }
    const int code = run_server(*options);
    if (code != 0) std::exit(code);
  });
}

}  // namespace arrowembed::cli

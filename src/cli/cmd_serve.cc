// arrowembed serve -m MODEL | --model NAME=PATH ... | --models-config FILE [...]:
// the HTTP service (see docs/api.md and docs/operations.md).
#include <cstdlib>
#include <memory>

#include "arrowembed/error.h"
#include "arrowembed/server/server.h"
#include "cli/commands.h"
#include "cli/engine_options.h"
#include "cli/model_arguments.h"

namespace arrowembed::cli {

void register_serve(CLI::App& app) {
  auto options = std::make_shared<ServerOptions>();
  auto models = std::make_shared<std::vector<std::string>>();
  auto collections = std::make_shared<std::vector<std::string>>();
  auto model_id = std::make_shared<std::string>();
  auto precision = std::make_shared<MatmulPrecision>(MatmulPrecision::F32);
  auto* cmd = app.add_subcommand("serve", "Serve embeddings over HTTP (TEI- and OpenAI-compatible) until SIGTERM");
  cmd->add_option("-m,--model", *models,
                  "A model to serve: PATH (.arrow; .parquet and Hugging Face directories also work), or NAME=PATH; "
                  "repeat for several models (the first is the default)");
  cmd->add_option("--models-config", options->models_config,
                  "JSON file listing the models: {\"models\": [{\"name\", \"path\", \"precision\", \"default\", "
                  "and per-model limits}]}; SIGHUP re-reads it");
  cmd->add_option("-c,--collection", *collections,
                  "A collection to serve for search: NAME=DIR (made by `arrowembed index build`); repeatable");
  cmd->add_option("--model-id", *model_id, "Name of a model given as a bare PATH (default: the file stem)");
  cmd->add_option("--host", options->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "Port to listen on (0: any free port, printed in the 'listening' log line)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", options->engine_threads, "Forward-pass threads, shared by every model (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  add_precision_option(cmd, precision.get());
  cmd->add_option("--http-threads", options->http_threads, "Connections served at once")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  service::ModelLimits& limits = options->limits;
  cmd->add_option("--max-batch-tokens", limits.max_batch_tokens, "Token budget of one batcher batch, per model")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--max-batch-wait-ms", limits.max_batch_wait_ms,
                  "Extra wait for more inputs before a batch (0: none; requests arriving during a batch join the next)")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--max-queue-inputs", limits.max_queue_inputs,
                  "Inputs that may wait, per model; beyond it requests get 429")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--max-inputs-per-request", options->max_inputs_per_request, "Texts one request may carry")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--max-payload-bytes", options->max_payload_bytes, "Largest request body (413 beyond)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32))
      ->capture_default_str();
  cmd->add_flag("--auto-truncate", limits.auto_truncate,
                "Cut inputs longer than max_seq_length by default instead of answering 422");
  cmd->add_option("--cache-size", options->cache_entries,
                  "Embeddings kept in the LRU cache, all models together (0 disables it)")
      ->capture_default_str();
  cmd->add_option("--api-key", options->api_key,
                  "Require 'Authorization: Bearer KEY' (default: $ARROWEMBED_API_KEY; empty: no auth)");
  cmd->add_option("--admin-key", options->admin_key,
                  "Enable PUT/DELETE /admin/models/{name} with 'Authorization: Bearer KEY' "
                  "(default: $ARROWEMBED_ADMIN_KEY; empty: admin routes refused)");
  cmd->add_option("--cors-allow-origin", options->cors_allow_origin, "'*' or comma-separated origins allowed by CORS");
  cmd->add_flag("!--no-request-log", options->log_requests, "Do not write a JSON log line per request");
  cmd->callback([options, models, collections, model_id, precision] {
    // Keys from the environment stay out of `ps` output.
    if (options->api_key.empty()) {
      if (const char* key = std::getenv("ARROWEMBED_API_KEY")) options->api_key = key;
    }
    if (options->admin_key.empty()) {
      if (const char* key = std::getenv("ARROWEMBED_ADMIN_KEY")) options->admin_key = key;
    }
    if (models->empty() && options->models_config.empty()) {
      throw CLI::RequiredError("give a model: -m PATH, --model NAME=PATH or --models-config FILE");
    }
    bool any_named = false;
    for (const std::string& value : *models) {
      bool named = false;
      service::ModelSpec spec = model_from_argument(value, models->size() == 1 ? *model_id : std::string(), &named);
      spec.precision = *precision;
      spec.limits = options->limits;
      any_named |= named;
      options->models.push_back(std::move(spec));
    }
    options->any_name_selects_default = models->size() == 1 && !any_named;
    for (const std::string& value : *collections) options->collections.push_back(collection_from_argument(value));
    const int code = run_server(*options);
    if (code != 0) std::exit(code);
  });
}

}  // namespace arrowembed::cli

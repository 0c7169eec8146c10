#pragma once
// Which models a service serves, and each one's limits: from the command
// line (`--model NAME=PATH`) or a models config file.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "arrowembed/engine/precision.h"

namespace arrowembed::service {

// Per-model limits of the dynamic batcher and the requests' defaults.
struct ModelLimits {
  // Token budget of one batcher batch (the inputs of concurrent requests
  // coalesced into one engine call); the engine splits it into forward
  // passes of at most EmbedderOptions::max_pass_tokens.
  size_t max_batch_tokens = 16384;
  // Extra wait for more inputs once the engine is free (0: none).
  double max_batch_wait_ms = 0;
  // Inputs that may wait for the engine; a request that does not fit is
  // refused as Overloaded.
  size_t max_queue_inputs = 16384;
  // Default of a request's `truncate`: cut long inputs at max_seq_length.
  bool auto_truncate = false;
};

struct ModelSpec {
  std::string name;
  std::filesystem::path path;  // .arrow, .parquet or a Hugging Face directory
  MatmulPrecision precision = MatmulPrecision::F32;
  bool is_default = false;
  ModelLimits limits;
};

// Reads a models config file:
//   {"models": [{"name": "minilm", "path": "minilm.arrow", "precision": "f32",
//                "default": true, "max_batch_tokens": 16384, "max_batch_wait_ms": 0,
//                "max_queue_inputs": 16384, "auto_truncate": false}, ...]}
// Only name and path are required; limits not given take `defaults`.
// Relative paths are relative to the file's directory. Throws Error naming
// the file and the entry for anything missing, unknown or of a wrong type,
// duplicate names, or more than one default.
std::vector<ModelSpec> read_models_config(const std::filesystem::path& file, const ModelLimits& defaults = {});

// One entry of a models config, given as JSON text (an admin request's
// body), without "name": that comes from the caller. Relative paths stay
// relative (to the process's working directory). Throws ServiceError:
// Malformed for text that is not JSON, InvalidInput naming the field.
ModelSpec read_model_entry(std::string_view json, const std::string& name, const ModelLimits& defaults = {});

// Checks a list of specs (at least one, unique non-empty names, at most one
// default) and marks the first as default when none is. Throws Error.
void check_model_specs(std::vector<ModelSpec>& specs);

}  // namespace arrowembed::service

#pragma once
// The model arguments `serve` and `mcp` share: `-m PATH` or `--model NAME=PATH`.
#include <string>

#include "arrowembed/service/model_spec.h"

namespace arrowembed::cli {

// "NAME=PATH" names a model; a bare PATH is named by `model_id` or its file
// stem. *named tells which.
service::ModelSpec model_from_argument(const std::string& value, const std::string& model_id, bool* named);

}  // namespace arrowembed::cli

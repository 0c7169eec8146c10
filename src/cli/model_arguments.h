#pragma once
// The arguments `serve` and `mcp` share: `-m PATH` or `--model NAME=PATH`,
// and `-c NAME=DIR`.
#include <string>

#include "arrowembed/service/embedding_service.h"
#include "arrowembed/service/model_spec.h"

namespace arrowembed::cli {

// "NAME=PATH" names a model; a bare PATH is named by `model_id` or its file
// stem. *named tells which.
service::ModelSpec model_from_argument(const std::string& value, const std::string& model_id, bool* named);

// "NAME=DIR" names a collection; a bare DIR is named by its last component.
service::CollectionSpec collection_from_argument(const std::string& value);

}  // namespace arrowembed::cli

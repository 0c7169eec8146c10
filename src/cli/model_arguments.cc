#include "cli/model_arguments.h"

#include <filesystem>

namespace arrowembed::cli {

service::ModelSpec model_from_argument(const std::string& value, const std::string& model_id, bool* named) {
  service::ModelSpec spec;
  const size_t eq = value.find('=');
  const std::string name = eq == std::string::npos ? std::string() : value.substr(0, eq);
  *named = !name.empty() && name.find('/') == std::string::npos;
  if (*named) {
    spec.name = name;
    spec.path = value.substr(eq + 1);
  } else {
    spec.path = value;
    spec.name = !model_id.empty() ? model_id : std::filesystem::path(value).stem().string();
  }
  return spec;
}

}  // namespace arrowembed::cli

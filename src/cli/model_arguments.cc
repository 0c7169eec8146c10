#include "cli/model_arguments.h"

#include <filesystem>
#include <utility>

namespace arrowembed::cli {

namespace {

// NAME=PATH -> {NAME, PATH}; a bare PATH (or one whose "name" has a '/') -> {"", PATH}.
std::pair<std::string, std::string> split_named(const std::string& value) {
  const size_t eq = value.find('=');
  const std::string name = eq == std::string::npos ? std::string() : value.substr(0, eq);
  if (name.empty() || name.find('/') != std::string::npos) return {"", value};
  return {name, value.substr(eq + 1)};
}

}  // namespace

service::ModelSpec model_from_argument(const std::string& value, const std::string& model_id, bool* named) {
  service::ModelSpec spec;
  auto [name, path] = split_named(value);
  *named = !name.empty();
  spec.path = path;
  spec.name = *named ? name : !model_id.empty() ? model_id : std::filesystem::path(path).stem().string();
  return spec;
}

service::CollectionSpec collection_from_argument(const std::string& value) {
  auto [name, path] = split_named(value);
  if (name.empty()) name = std::filesystem::path(path).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(path).lexically_normal().parent_path().filename().string();
  return {name, path, ""};
}

}  // namespace arrowembed::cli

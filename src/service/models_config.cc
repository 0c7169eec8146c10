// The models config file and the checks every list of models passes.
#include <set>

#include "arrowembed/service/model_spec.h"
#include "arrowembed/service/service_error.h"
#include "format/json_util.h"

namespace arrowembed::service {

namespace {

const std::set<std::string> kEntryKeys = {"name",    "path",           "precision",         "default",
                                          "max_batch_tokens", "max_batch_wait_ms", "max_queue_inputs",
                                          "auto_truncate"};

// A count field: a positive integer.
size_t count_field(const nlohmann::ordered_json& entry, const char* key, size_t fallback, const std::string& where) {
  const int64_t n = json_util::optional<int64_t>(entry, key, static_cast<int64_t>(fallback), where);
  if (n < 1) throw Error(where + ": field '" + key + "' must be a positive integer");
  return static_cast<size_t>(n);
}

// Everything of an entry but its name; `where` names it in errors.
ModelSpec read_entry(const nlohmann::ordered_json& entry, const std::string& where, const ModelLimits& defaults,
                     bool with_name) {
  if (!entry.is_object()) throw Error(where + " must be an object");
  for (const auto& [key, value] : entry.items()) {
    if (!kEntryKeys.count(key) || (key == "name" && !with_name)) throw Error(where + ": unknown field '" + key + "'");
  }
  ModelSpec s;
  if (with_name) s.name = json_util::required<std::string>(entry, "name", where);
  s.path = json_util::required<std::string>(entry, "path", where);
  try {
    s.precision = precision_from_name(json_util::optional<std::string>(entry, "precision", "f32", where));
  } catch (const Error& e) {
    throw Error(where + ": field 'precision': " + e.what());
  }
  s.is_default = json_util::optional<bool>(entry, "default", false, where);
  s.limits.max_batch_tokens = count_field(entry, "max_batch_tokens", defaults.max_batch_tokens, where);
  s.limits.max_batch_wait_ms = json_util::optional<double>(entry, "max_batch_wait_ms", defaults.max_batch_wait_ms, where);
  if (s.limits.max_batch_wait_ms < 0) throw Error(where + ": field 'max_batch_wait_ms' must not be negative");
  s.limits.max_queue_inputs = count_field(entry, "max_queue_inputs", defaults.max_queue_inputs, where);
  s.limits.auto_truncate = json_util::optional<bool>(entry, "auto_truncate", defaults.auto_truncate, where);
  return s;
}

}  // namespace

ModelSpec read_model_entry(std::string_view json, const std::string& name, const ModelLimits& defaults) {
  nlohmann::ordered_json entry;
  try {
    entry = json_util::parse(json, "the request body");
  } catch (const Error& e) {
    throw ServiceError(ErrorKind::Malformed, e.what());
  }
  try {
    ModelSpec s = read_entry(entry, "the model", defaults, false);
    s.name = name;
    return s;
  } catch (const Error& e) {
    // json_util names the field as "field 'x'": name it for the caller too.
    const std::string message = e.what();
    std::string field;
    for (const char* key : {"path", "precision", "default", "max_batch_tokens", "max_batch_wait_ms",
                            "max_queue_inputs", "auto_truncate"}) {
      if (message.find(std::string("'") + key + "'") != std::string::npos) field = key;
    }
    throw ServiceError(ErrorKind::InvalidInput, message, field);
  }
}

void check_model_specs(std::vector<ModelSpec>& specs) {
  if (specs.empty()) throw Error("no model to serve");
  std::set<std::string> names;
  size_t defaults = 0;
  for (const ModelSpec& s : specs) {
    if (s.name.empty()) throw Error("a model needs a name");
    if (s.name.find('/') != std::string::npos) throw Error("model name '" + s.name + "' must not contain '/'");
    if (!names.insert(s.name).second) throw Error("model name '" + s.name + "' is given twice");
    if (s.limits.max_batch_tokens == 0) throw Error("model '" + s.name + "': max_batch_tokens must be positive");
    if (s.limits.max_queue_inputs == 0) throw Error("model '" + s.name + "': max_queue_inputs must be positive");
    if (s.limits.max_batch_wait_ms < 0) throw Error("model '" + s.name + "': max_batch_wait_ms must not be negative");
    defaults += s.is_default;
  }
  if (defaults > 1) throw Error("more than one model is marked as the default");
  if (defaults == 0) specs.front().is_default = true;
}

std::vector<ModelSpec> read_models_config(const std::filesystem::path& file, const ModelLimits& defaults) {
  const std::string what = file.string();
  const auto doc = json_util::parse_file(file);
  if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array())
    throw Error(what + ": expected {\"models\": [{\"name\": ..., \"path\": ...}, ...]}");
  std::vector<ModelSpec> specs;
  size_t index = 0;
  for (const auto& entry : doc["models"]) {
    const std::string where = what + ": models[" + std::to_string(index++) + "]";
    ModelSpec s = read_entry(entry, where, defaults, true);
    if (s.path.is_relative()) s.path = file.parent_path() / s.path;
    specs.push_back(std::move(s));
  }
  try {
    check_model_specs(specs);
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  return specs;
}

}  // namespace arrowembed::service

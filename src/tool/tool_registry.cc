#include "arrowembed/tool/tool_registry.h"

#include <charconv>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "arrowembed/error.h"
#include "arrowembed/service/service_error.h"

namespace arrowembed::tool {

namespace {

using service::ErrorKind;
using service::ServiceError;

// valijson's context ("<root>", "[texts]", "[2]") as the field path an LLM
// would write ("texts[2]").
std::string field_path(const std::vector<std::string>& context) {
  std::string path;
  for (const std::string& part : context) {
    if (part == "<root>" || part.size() < 2) continue;
    const std::string inner = part.substr(1, part.size() - 2);
    const bool index = !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos;
    if (index) {
      path += "[" + inner + "]";
    } else {
      path += (path.empty() ? "" : ".") + inner;
    }
  }
  return path;
}

// The property a "missing required" or "not allowed" message quotes.
std::string quoted_name(const std::string& description) {
  const size_t end = description.rfind('\'');
  if (end == std::string::npos || end == 0) return {};
  const size_t start = description.rfind('\'', end - 1);
  if (start == std::string::npos) return {};
  return description.substr(start + 1, end - start - 1);
}

}  // namespace

double json_float(float value) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  double out = 0;
  std::from_chars(buf, end, out);
  return out;
}

struct ToolRegistry::Entry {
  ToolInfo info;
  Handler handler;
  nlohmann::json schema_document;  // valijson's adapter reads nlohmann::json
  valijson::Schema schema;
};

ToolRegistry::ToolRegistry() = default;
ToolRegistry::~ToolRegistry() = default;
ToolRegistry::ToolRegistry(ToolRegistry&&) noexcept = default;
ToolRegistry& ToolRegistry::operator=(ToolRegistry&&) noexcept = default;

void ToolRegistry::add(ToolInfo info, Handler handler) {
  if (has(info.name)) throw Error("tool '" + info.name + "' is registered twice");
  auto entry = std::make_unique<Entry>();
  entry->schema_document = nlohmann::json::parse(info.input_schema.dump());
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(entry->schema_document);
    parser.populateSchema(adapter, entry->schema);
  } catch (const std::exception& e) {
    throw Error("tool '" + info.name + "': its schema cannot be read: " + e.what());
  }
  entry->info = std::move(info);
  entry->handler = std::move(handler);
  tools_.push_back(std::move(entry));
}

std::vector<ToolInfo> ToolRegistry::list() const {
  std::vector<ToolInfo> out;
  for (const auto& t : tools_) out.push_back(t->info);
  return out;
}

bool ToolRegistry::has(const std::string& name) const {
  for (const auto& t : tools_) {
    if (t->info.name == name) return true;
  }
  return false;
}

Json ToolRegistry::openai_tools() const {
  Json out = Json::array();
  for (const auto& t : tools_) {
    out.push_back({{"type", "function"},
                   {"function",
                    {{"name", t->info.name}, {"description", t->info.description}, {"parameters", t->info.input_schema}}}});
  }
  return out;
}

Json ToolRegistry::mcp_tools() const {
  Json out = Json::array();
  for (const auto& t : tools_) {
    out.push_back({{"name", t->info.name}, {"description", t->info.description}, {"inputSchema", t->info.input_schema}});
  }
  return out;
}

Json ToolRegistry::call(const std::string& name, const Json& arguments) const {
  const Entry* entry = nullptr;
  std::string names;
  for (const auto& t : tools_) {
    if (t->info.name == name) entry = t.get();
    names += (names.empty() ? "" : ", ") + t->info.name;
  }
  if (!entry) throw ServiceError(ErrorKind::InvalidInput, "no tool named '" + name + "' (tools: " + names + ")", "name");
  const nlohmann::json document = nlohmann::json::parse(arguments.dump());
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  if (!validator.validate(entry->schema, adapter, &results)) {
    // The deepest error names the field best; valijson reports the
    // enclosing ones ("failed to match against any oneOf...") first.
    valijson::ValidationResults::Error error, deepest;
    while (results.popError(error)) {
      if (deepest.description.empty() || error.context.size() > deepest.context.size()) deepest = error;
    }
    std::string field = field_path(deepest.context);
    std::string message = ": " + deepest.description;
    const std::string property = quoted_name(deepest.description);
    if (deepest.description.find("required property") != std::string::npos && !property.empty()) {
      field += (field.empty() ? "" : ".") + property;
      message = " is required";
    } else if (deepest.description.find("could not be validated") != std::string::npos && !property.empty()) {
      field += (field.empty() ? "" : ".") + property;
      std::string known;
      const Json properties = entry->info.input_schema.value("properties", Json::object());
      for (const auto& [key, value] : properties.items()) {
        known += (known.empty() ? "" : ", ") + key;
      }
      message = " is not an argument of '" + name + "' (its arguments: " + known + ")";
    }
    throw ServiceError(ErrorKind::InvalidInput,
                       (field.empty() ? std::string("the arguments") : "'" + field + "'") + message, field);
  }
  return entry->handler(arguments);
}

}  // namespace arrowembed::tool

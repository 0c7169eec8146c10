#include "format/json_util.h"

#include <fstream>
#include <sstream>

namespace arrowembed::json_util {

nlohmann::ordered_json parse(std::string_view text, const std::string& what) {
  try {
    return nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(what + ": invalid JSON (" + e.what() + ")");
  }
}

nlohmann::json parse_unordered(std::string_view text, const std::string& what) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(what + ": invalid JSON (" + e.what() + ")");
  }
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::ordered_json parse_file(const std::filesystem::path& path) {
  return parse(read_text_file(path), path.string());
}

namespace {
template <typename T>
T convert(const nlohmann::ordered_json& value, const char* key, const std::string& what) {
  const char* expected = "a string";
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>) {
    expected = "a boolean";
    ok = value.is_boolean();
  } else if constexpr (std::is_integral_v<T>) {
    expected = "an integer";
    ok = value.is_number_integer();
  } else if constexpr (std::is_floating_point_v<T>) {
    expected = "a number";
    ok = value.is_number();
  } else {
    ok = value.is_string();
  }
  if (!ok) throw Error(what + ": field '" + key + "' must be " + expected);
  return value.get<T>();
}
}  // namespace

template <typename T>
T required(const nlohmann::ordered_json& obj, const char* key, const std::string& what) {
  auto it = obj.find(key);
  if (it == obj.end()) throw Error(what + ": missing field '" + key + "'");
  return convert<T>(*it, key, what);
}

template <typename T>
T optional(const nlohmann::ordered_json& obj, const char* key, T fallback, const std::string& what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return convert<T>(*it, key, what);
}

template int64_t required<int64_t>(const nlohmann::ordered_json&, const char*, const std::string&);
template double required<double>(const nlohmann::ordered_json&, const char*, const std::string&);
template bool required<bool>(const nlohmann::ordered_json&, const char*, const std::string&);
template std::string required<std::string>(const nlohmann::ordered_json&, const char*, const std::string&);
template int64_t optional<int64_t>(const nlohmann::ordered_json&, const char*, int64_t, const std::string&);
template double optional<double>(const nlohmann::ordered_json&, const char*, double, const std::string&);
template bool optional<bool>(const nlohmann::ordered_json&, const char*, bool, const std::string&);
template std::string optional<std::string>(const nlohmann::ordered_json&, const char*, std::string,
                                           const std::string&);

}  // namespace arrowembed::json_util

#pragma once
// Small helpers for reading JSON documents with errors that name the file
// and the field, shared by everything in src/format that reads JSON.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "arrowembed/error.h"

namespace arrowembed::json_util {

// Parses text; `what` names the document in the error ("config.json").
nlohmann::ordered_json parse(std::string_view text, const std::string& what);
nlohmann::ordered_json parse_file(const std::filesystem::path& path);
// For large documents whose key order does not matter: ordered_json inserts
// in linear time, which is quadratic on a 30k-entry vocabulary.
nlohmann::json parse_unordered(std::string_view text, const std::string& what);
std::string read_text_file(const std::filesystem::path& path);

// Typed field access: required() throws "<what>: missing field 'x'" or
// "<what>: field 'x' must be <type>".
template <typename T>
T required(const nlohmann::ordered_json& obj, const char* key, const std::string& what);
template <typename T>
T optional(const nlohmann::ordered_json& obj, const char* key, T fallback, const std::string& what);

}  // namespace arrowembed::json_util

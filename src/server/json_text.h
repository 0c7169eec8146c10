#pragma once
// Appending JSON text to a std::string, for the hot responses (embedding
// matrices) where building a DOM first would cost more than the inference.
// Small documents (errors, /info) use nlohmann::json instead.
#include <cstddef>
#include <string>
#include <string_view>

namespace arrowembed::server {

// Floats shortest-exact (std::to_chars), so they parse back bit for bit.
// Non-finite values, which JSON cannot carry, become null.
void append_json_float(std::string& out, float value);
// [f0,f1,...]
void append_json_floats(std::string& out, const float* values, size_t count);
// A quoted string; `text` must be valid UTF-8 (control characters are escaped).
void append_json_string(std::string& out, std::string_view text);

}  // namespace arrowembed::server

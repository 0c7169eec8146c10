#include "server/json_text.h"

#include <charconv>
#include <cmath>

namespace arrowembed::server {

void append_json_float(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char digits[32];
  const auto res = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, res.ptr);
}

void append_json_floats(std::string& out, const float* values, size_t count) {
  out.reserve(out.size() + count * 12 + 2);
  out += '[';
  for (size_t i = 0; i < count; ++i) {
    if (i) out += ',';
    append_json_float(out, values[i]);
  }
  out += ']';
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace arrowembed::server

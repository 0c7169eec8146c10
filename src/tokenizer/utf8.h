#pragma once
// UTF-8 validation, decoding and encoding for the tokenizer's hot loops.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace arrowembed::tok {

inline constexpr size_t kValidUtf8 = static_cast<size_t>(-1);

// Byte index of the first ill-formed sequence (overlong forms, surrogates,
// values above U+10FFFF and truncated sequences count as ill-formed), or
// kValidUtf8. Same acceptance rule as Rust's str / Python's strict decoder.
size_t find_invalid_utf8(std::string_view text);

// Decodes the code point starting at p. The input must already be valid.
inline char32_t decode_utf8(const unsigned char* p, int& length) {
  const unsigned char lead = p[0];
  if (lead < 0x80) {
    length = 1;
    return lead;
  }
  if (lead < 0xE0) {
    length = 2;
    return (char32_t(lead & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (lead < 0xF0) {
    length = 3;
    return (char32_t(lead & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  length = 4;
  return (char32_t(lead & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
         (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

// Writes cp (a valid scalar value) to out, returns the number of bytes (1-4).
inline int encode_utf8(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

}  // namespace arrowembed::tok

#pragma once
// Character properties exactly as Hugging Face `tokenizers` sees them for BERT
// (normalizers/bert.rs, pre_tokenizers/bert.rs). Base data comes from
// utf8proc; hf_unicode_overrides.inc patches the few hundred code points where
// HF's pinned Unicode tables disagree with utf8proc's (see docs/tokenizer.md).
#include <cstdint>

namespace arrowembed::tok {

// Longest canonical decomposition in Unicode is 4 code points; room to spare.
inline constexpr int kMaxDecomposition = 8;
// Longest full lowercase mapping HF produces (U+0130 -> "i\u0307").
inline constexpr int kMaxLowercase = 3;

// Property bits of one code point, as used by the BERT pipeline.
enum CharFlag : uint8_t {
  kControl = 1 << 0,         // removed by clean_text (HF is_control; \t \n \r are not)
  kWhitespace = 1 << 1,      // Rust char::is_whitespace (White_Space)
  kPunctuation = 1 << 2,     // BERT punctuation: ASCII punctuation or any P* category
  kNonspacingMark = 1 << 3,  // Mn: dropped by strip_accents after NFD
  kChinese = 1 << 4,         // CJK ideograph blocks that handle_chinese_chars isolates
  kInert = 1 << 5,           // NFD and lowercase leave it unchanged and its combining class is 0
};

// Flags for any code point. Uses a table built once per process for the BMP.
uint8_t char_flags(char32_t cp);

// Canonical combining class as HF's NFD sees it.
int combining_class(char32_t cp);

// Canonical (NFD) decomposition as HF sees it, written to out; returns the count.
int decompose_canonical(char32_t cp, char32_t out[kMaxDecomposition]);

// Full lowercase mapping as Rust's char::to_lowercase; returns the count (1-3).
int to_lowercase(char32_t cp, char32_t out[kMaxLowercase]);

// The BMP part of char_flags as a 65536-entry table, for hot loops that fetch
// it once per call instead of going through the function-local static.
const uint8_t* bmp_flag_table();

inline uint8_t char_flags(const uint8_t* bmp_table, char32_t cp) {
  return cp < 0x10000 ? bmp_table[cp] : char_flags(cp);
}

}  // namespace arrowembed::tok

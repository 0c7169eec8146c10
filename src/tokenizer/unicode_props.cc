#include "tokenizer/unicode_props.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <memory>

namespace arrowembed::tok {
namespace {

struct CodePointRange {
  uint32_t first;
  uint32_t last;
};
struct LowercaseOverride {
  uint32_t code_point;
  int count;
  uint32_t lower[kMaxLowercase];
};

#include "tokenizer/hf_unicode_overrides.inc"

template <size_t N>
bool in_ranges(const CodePointRange (&ranges)[N], char32_t cp) {
  // Ranges are sorted and disjoint: find the first range ending at or after cp.
  const auto* it = std::lower_bound(std::begin(ranges), std::end(ranges), uint32_t(cp),
                                    [](const CodePointRange& r, uint32_t v) { return r.last < v; });
  return it != std::end(ranges) && it->first <= cp;
}

bool is_ascii_punctuation(char32_t cp) {
  return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
         (cp >= 0x7B && cp <= 0x7E);
}

bool is_control(char32_t cp, utf8proc_category_t category) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;  // BERT treats them as whitespace
  // HF uses the `unicode_categories` crate's is_other(): Cc, Cf, Co, Cs (not Cn).
  const bool base = category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
                    category == UTF8PROC_CATEGORY_CO || category == UTF8PROC_CATEGORY_CS;
  if (base) return !in_ranges(kHfNotControl, cp);
  return in_ranges(kHfExtraControl, cp);
}

bool is_whitespace(char32_t cp, utf8proc_category_t category) {
  // White_Space = Zs + Zl + Zp + these controls (stable since Unicode 6.3).
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return true;
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
         category == UTF8PROC_CATEGORY_ZP;
}

bool is_punctuation(char32_t cp, utf8proc_category_t category) {
  if (is_ascii_punctuation(cp)) return true;  // includes Sm/Sc/Sk symbols like $ + ^ `
  const bool base = category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
  if (base) return !in_ranges(kHfNotPunctuation, cp);
  return in_ranges(kHfExtraPunctuation, cp);
}

bool is_nonspacing_mark(char32_t cp, utf8proc_category_t category) {
  if (category == UTF8PROC_CATEGORY_MN) return !in_ranges(kHfNotNonspacingMark, cp);
  return in_ranges(kHfExtraNonspacingMark, cp);
}

bool is_chinese(char32_t cp) {
  // The blocks BERT's original tokenizer (and HF) call "Chinese characters".
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

uint8_t compute_flags(char32_t cp) {
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  uint8_t flags = 0;
  if (is_control(cp, category)) flags |= kControl;
  if (is_whitespace(cp, category)) flags |= kWhitespace;
  if (is_punctuation(cp, category)) flags |= kPunctuation;
  if (is_nonspacing_mark(cp, category)) flags |= kNonspacingMark;
  if (is_chinese(cp)) flags |= kChinese;
  char32_t decomposed[kMaxDecomposition];
  char32_t lower[kMaxLowercase];
  if (combining_class(cp) == 0 && decompose_canonical(cp, decomposed) == 1 && decomposed[0] == cp &&
      to_lowercase(cp, lower) == 1 && lower[0] == cp) {
    flags |= kInert;
  }
  return flags;
}

// One byte per BMP code point, built on first use (about a millisecond).
const std::array<uint8_t, 0x10000>& bmp_flags() {
  static const auto table = [] {
    auto t = std::make_unique<std::array<uint8_t, 0x10000>>();
    for (char32_t cp = 0; cp < 0x10000; ++cp) {
      (*t)[cp] = (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : compute_flags(cp);
    }
    return t;
  }();
  return *table;
}

}  // namespace

const uint8_t* bmp_flag_table() { return bmp_flags().data(); }

uint8_t char_flags(char32_t cp) {
  if (cp < 0x10000) return bmp_flags()[cp];
  return compute_flags(cp);
}

int combining_class(char32_t cp) {
  const int ccc = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
  if (ccc != 0 && in_ranges(kHfStarter, cp)) return 0;
  return ccc;
}

int decompose_canonical(char32_t cp, char32_t out[kMaxDecomposition]) {
  if (in_ranges(kHfNoDecomposition, cp)) {
    out[0] = cp;
    return 1;
  }
  utf8proc_int32_t buffer[kMaxDecomposition];
  int last_boundclass = 0;
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, kMaxDecomposition,
                                         UTF8PROC_DECOMPOSE, &last_boundclass);
  if (n <= 0 || n > kMaxDecomposition) {  // cannot happen for canonical mappings
    out[0] = cp;
    return 1;
  }
  for (int i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buffer[i]);
  return static_cast<int>(n);
}

int to_lowercase(char32_t cp, char32_t out[kMaxLowercase]) {
  const auto* it = std::lower_bound(
      std::begin(kHfLowercase), std::end(kHfLowercase), uint32_t(cp),
      [](const LowercaseOverride& o, uint32_t v) { return o.code_point < v; });
  if (it != std::end(kHfLowercase) && it->code_point == cp) {
    for (int i = 0; i < it->count; ++i) out[i] = it->lower[i];
    return it->count;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
  return 1;
}

}  // namespace arrowembed::tok

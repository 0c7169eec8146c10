// Spot checks of the HF view of Unicode, including code points where the
// generated overrides (hf_unicode_overrides.inc) must win over utf8proc.
#include "tokenizer/unicode_props.h"

#include <gtest/gtest.h>

namespace arrowembed::tok {
namespace {

TEST(UnicodeProps, BertPunctuationIncludesAsciiSymbols) {
  for (char32_t c : {U'$', U'+', U'<', U'=', U'>', U'^', U'`', U'|', U'~', U'!', U'-'}) {
    EXPECT_TRUE(char_flags(c) & kPunctuation) << int(c);
  }
  EXPECT_TRUE(char_flags(U'\u00BF') & kPunctuation);   // ¿ (Po)
  EXPECT_FALSE(char_flags(U'\u20AC') & kPunctuation);  // € is Sc and not ASCII
  EXPECT_FALSE(char_flags(U'a') & kPunctuation);
}

TEST(UnicodeProps, OverridesFollowHuggingFaceTables) {
  // U+2E43 (Po since Unicode 9) is not punctuation for HF; U+166D (So since
  // Unicode 12) still is; U+0890 (Cf, Unicode 14) is not a control for HF.
  EXPECT_FALSE(char_flags(U'\u2E43') & kPunctuation);
  EXPECT_TRUE(char_flags(U'\u166D') & kPunctuation);
  EXPECT_FALSE(char_flags(U'\u0890') & kControl);
  EXPECT_FALSE(char_flags(U'\u08CA') & kNonspacingMark);  // Mn since Unicode 14
  char32_t out[kMaxDecomposition];
  ASSERT_EQ(decompose_canonical(U'\U00011938', out), 1);  // decomposes since Unicode 13; not for HF
  EXPECT_EQ(out[0], U'\U00011938');
  char32_t lower[kMaxLowercase];
  ASSERT_EQ(to_lowercase(U'\uA7CB', lower), 1);  // Unicode 16 letter, lowercase U+0264
  EXPECT_EQ(lower[0], U'\u0264');
}

TEST(UnicodeProps, ControlsAndWhitespace) {
  EXPECT_TRUE(char_flags(U'\u200B') & kControl);  // ZERO WIDTH SPACE is Cf
  EXPECT_TRUE(char_flags(U'\v') & kControl);      // \v and \f are removed, not spaces
  EXPECT_FALSE(char_flags(U'\t') & kControl);
  EXPECT_TRUE(char_flags(U'\t') & kWhitespace);
  EXPECT_TRUE(char_flags(U'\u3000') & kWhitespace);
  EXPECT_TRUE(char_flags(U'\U000E0001') & kControl);  // TAG (Cf), outside the BMP table
  EXPECT_FALSE(char_flags(U'\u0378') & kControl);     // unassigned (Cn) is kept
}

TEST(UnicodeProps, DecompositionCaseAndCombiningClass) {
  char32_t out[kMaxDecomposition];
  ASSERT_EQ(decompose_canonical(U'\u00E9', out), 2);
  EXPECT_EQ(out[0], U'e');
  EXPECT_EQ(out[1], U'\u0301');
  ASSERT_EQ(decompose_canonical(U'\uAC00', out), 2);  // Hangul syllables decompose algorithmically
  EXPECT_EQ(combining_class(U'\u0301'), 230);
  EXPECT_EQ(combining_class(U'\u0316'), 220);
  char32_t lower[kMaxLowercase];
  ASSERT_EQ(to_lowercase(U'\u0130', lower), 2);  // İ -> i + combining dot above
  EXPECT_EQ(lower[0], U'i');
  EXPECT_EQ(lower[1], U'\u0307');
  ASSERT_EQ(to_lowercase(U'\u03A3', lower), 1);  // Σ -> σ, never final ς (no context)
  EXPECT_EQ(lower[0], U'\u03C3');
  EXPECT_TRUE(char_flags(U'\u4E2D') & kChinese);
  EXPECT_TRUE(char_flags(U'\U00020000') & kChinese);
  EXPECT_FALSE(char_flags(U'\u3042') & kChinese);  // Hiragana is not
  EXPECT_TRUE(char_flags(U'a') & kInert);
  EXPECT_FALSE(char_flags(U'A') & kInert);
}

}  // namespace
}  // namespace arrowembed::tok

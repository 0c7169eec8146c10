// End-to-end checks against the real all-MiniLM-L6-v2 tokenizer.json. Every
// expected id and offset below was produced by Hugging Face `tokenizers`
// 0.23.3 (offsets converted from characters to UTF-8 bytes).
#include "arrowembed/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "arrowembed/error.h"

namespace arrowembed {
namespace {

using Ids = std::vector<int32_t>;
using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;

const std::string& minilm_json() {
  static const std::string json = [] {
    const std::string path = std::string(ARROWEMBED_SOURCE_DIR) + "/models/all-MiniLM-L6-v2/tokenizer.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + " is missing: run scripts/fetch_model.py");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }();
  return json;
}

const Tokenizer& minilm() {
  static const Tokenizer tokenizer = Tokenizer::from_json(minilm_json());
  return tokenizer;
}

Ids ids(std::string_view text, size_t max_length = 256) { return minilm().encode(text, max_length).ids; }

TEST(Tokenizer, BasicSentence) {
  const Encoding e = minilm().encode("Hello, World!", 256);
  EXPECT_EQ(e.ids, (Ids{101, 7592, 1010, 2088, 999, 102}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {0, 0}}));
  EXPECT_EQ(e.type_ids, (Ids(6, 0)));
  EXPECT_EQ(e.attention_mask(), (Ids(6, 1)));
  EXPECT_EQ(e.size(), 6u);
}

TEST(Tokenizer, AccentsChineseAndOffsets) {
  const Encoding e = minilm().encode("H\u00e9llo  w\u00f6rld \u4f60\u597d na\u00efve", 256);
  EXPECT_EQ(e.ids, (Ids{101, 7592, 2088, 100, 100, 15743, 102}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 6}, {8, 14}, {15, 18}, {18, 21}, {22, 28}, {0, 0}}));
}

TEST(Tokenizer, SubwordsAndPunctuation) {
  const Encoding e = minilm().encode("The caf\u00e9's cr\u00e8me br\u00fbl\u00e9e costs $5.99!", 256);
  EXPECT_EQ(e.ids, (Ids{101, 1996, 7668, 1005, 1055, 13675, 21382, 7987, 9307, 2063, 5366, 1002, 1019, 1012, 5585,
                        999, 102}));
  EXPECT_EQ(e.offsets[6], (std::pair<uint32_t, uint32_t>{14, 18}));  // "##eme" of "crème"
  EXPECT_EQ(ids("unaffable tokenization"), (Ids{101, 14477, 20961, 3468, 19204, 3989, 102}));
}

TEST(Tokenizer, SpecialTokensInTextAreMatchedVerbatim) {
  const Encoding e = minilm().encode("hello [SEP]world[CLS] [MASK] [mask]", 256);
  EXPECT_EQ(e.ids, (Ids{101, 7592, 102, 2088, 101, 103, 1031, 7308, 1033, 102}));
  EXPECT_EQ(e.offsets[2], (std::pair<uint32_t, uint32_t>{6, 11}));
}

TEST(Tokenizer, CaseMappingAndStripping) {
  EXPECT_EQ(ids("\u00c0\u00c9\u00ce\u00d5\u00dc \u01c5 \u0130stanbul \u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3"),
            (Ids{101, 29347, 3695, 2226, 100, 9960, 1173, 18199, 29733, 29735, 29736, 29730, 29733, 102}));
  EXPECT_EQ(ids("\ufb01nance \u216b"), (Ids{101, 1984, 7229, 3401, 100, 102}));
}

TEST(Tokenizer, CombiningMarksAreReorderedThenStripped) {
  // U+0316 (class 220) after U+0301 (230): canonical ordering swaps them; both are Mn and go.
  const Encoding e = minilm().encode("a\u0301\u0316b", 256);
  EXPECT_EQ(e.ids, (Ids{101, 11113, 102}));
  EXPECT_EQ(e.offsets[1], (std::pair<uint32_t, uint32_t>{0, 6}));
  // U+1E09 decomposes to c + U+0327 + U+0301, then U+0316 joins the run.
  const Encoding f = minilm().encode("\u1e09\u0316 x", 256);
  EXPECT_EQ(f.ids, (Ids{101, 1039, 1060, 102}));
  EXPECT_EQ(f.offsets, (Offsets{{0, 0}, {0, 3}, {6, 7}, {0, 0}}));
}

TEST(Tokenizer, CleanTextRemovesControlsAndFormatCharacters) {
  const Encoding e = minilm().encode("ab\x01" "cd\u200b" "ef\ufffdgh", 256);
  EXPECT_EQ(e.ids, (Ids{101, 5925, 3207, 2546, 5603, 102}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 4}, {4, 9}, {9, 10}, {13, 15}, {0, 0}}));
  EXPECT_EQ(ids(std::string("a\0b", 3)), ids("ab"));
}

TEST(Tokenizer, EmptyAndBlankTexts) {
  EXPECT_EQ(ids(""), (Ids{101, 102}));
  EXPECT_EQ(ids("\t \n\u3000 "), (Ids{101, 102}));
}

TEST(Tokenizer, MaxInputCharsPerWordCountsNormalizedCharacters) {
  EXPECT_EQ(ids(std::string(100, 'a')).size(), 52u);
  EXPECT_EQ(ids(std::string(101, 'a')), (Ids{101, 100, 102}));
  std::string decomposed;  // 200 code points, 100 after accents are stripped
  for (int i = 0; i < 100; ++i) decomposed += "e\u0301";
  const Ids long_word = ids(decomposed);
  ASSERT_EQ(long_word.size(), 52u);
  EXPECT_EQ((Ids(long_word.begin(), long_word.begin() + 3)), (Ids{101, 25212, 4402}));
  EXPECT_EQ(minilm().encode(std::string(101, 'a'), 256).offsets[1], (std::pair<uint32_t, uint32_t>{0, 101}));
}

TEST(Tokenizer, UnicodeVersionGapCharacters) {
  EXPECT_EQ(ids("x\u2e43y"), (Ids{101, 100, 102}));  // not punctuation for HF: one unknown word
  const Encoding emoji = minilm().encode("\U0001F469\U0001F3FD\u200d\U0001F4BB emoji", 256);
  EXPECT_EQ(emoji.ids, (Ids{101, 100, 7861, 29147, 2072, 102}));
  EXPECT_EQ(emoji.offsets[1], (std::pair<uint32_t, uint32_t>{0, 15}));
}

TEST(Tokenizer, TruncationKeepsRoomForSpecialTokens) {
  EXPECT_EQ(ids("one two three four five six", 5), (Ids{101, 2028, 2048, 2093, 102}));
  EXPECT_EQ(ids("unaffable", 3), (Ids{101, 14477, 102}));  // cuts inside a word
  EXPECT_EQ(ids("unaffable", 2), (Ids{101, 102}));
  EXPECT_EQ(ids("hello [SEP] world", 4), (Ids{101, 7592, 102, 102}));  // in-text specials count
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  EXPECT_EQ(ids(long_text).size(), 256u);
  EXPECT_EQ(ids(long_text, Tokenizer::kNoTruncation).size(), 602u);
  EXPECT_THROW(ids("x", 1), Error);
}

TEST(Tokenizer, InvalidUtf8IsAnError) {
  for (std::string bad : {std::string("abc\xff"), std::string("\xc3"), std::string("\xed\xa0\x80"),
                          std::string("ok \xf0\x9f\x98")}) {
    EXPECT_THROW(minilm().encode(bad, 256), Error);
  }
  try {
    minilm().encode("abc\xff", 256);
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "invalid UTF-8 at byte 3");
  }
}

TEST(Tokenizer, BatchMatchesSingleAndNamesBadText) {
  const std::vector<std::string_view> texts = {"Hello, World!", "", "unaffable tokenization", "[SEP]", "na\u00efve"};
  for (size_t threads : {1, 2, 7}) {
    const auto batch = minilm().encode_batch(texts, 256, threads);
    ASSERT_EQ(batch.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i].ids, ids(texts[i])) << i;
  }
  const std::vector<std::string_view> with_bad = {"fine", "also fine", "bad \xc3\x28"};
  try {
    minilm().encode_batch(with_bad, 256, 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "text 2: invalid UTF-8 at byte 4");
  }
  EXPECT_TRUE(minilm().encode_batch({}, 256, 2).empty());
}

TEST(Tokenizer, RandomBytesNeverCrash) {
  // Arbitrary bytes: either an Error (invalid UTF-8) or a well-formed encoding.
  std::mt19937 rng(42);
  const std::string alphabet = "ab [SEP]\xc3\xa9\xe4\xb8\xad\xcc\x81\xf0\x9f\x98\x80\x80\xff\t\n#!";
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int length = static_cast<int>(rng() % 40);
    for (int i = 0; i < length; ++i) {
      text += (rng() % 4 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    try {
      const Encoding e = minilm().encode(text, 16);
      ASSERT_LE(e.ids.size(), 16u);
      ASSERT_EQ(e.offsets.size(), e.ids.size());
      for (const auto& [begin, end] : e.offsets) ASSERT_TRUE(begin <= end && end <= text.size());
    } catch (const Error&) {
    }
  }
}

TEST(Tokenizer, TruncatedJsonIsAnError) {
  const std::string& json = minilm_json();
  for (size_t cut : {size_t(0), size_t(1), size_t(100), json.size() / 2, json.size() - 2}) {
    EXPECT_THROW(Tokenizer::from_json(std::string_view(json).substr(0, cut)), Error) << cut;
  }
}

TEST(Tokenizer, Vocabulary) {
  const Tokenizer& t = minilm();
  EXPECT_EQ(t.vocab_size(), 30522u);
  EXPECT_EQ(t.token_to_id("##ing"), 2075);
  EXPECT_EQ(t.token_to_id("[CLS]"), 101);
  EXPECT_FALSE(t.token_to_id("not-a-token").has_value());
  EXPECT_EQ(t.id_to_token(2000), "to");
  EXPECT_EQ(t.id_to_token(-1), "");
  EXPECT_EQ(t.id_to_token(1000000), "");
  EXPECT_EQ(t.num_special_tokens(), 2u);
  const Tokenizer copy = t;  // cheap copy sharing the tables
  EXPECT_EQ(copy.encode("hello", 8).ids, (Ids{101, 7592, 102}));
}

}  // namespace
}  // namespace arrowembed

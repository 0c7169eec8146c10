#include "tokenizer/wordpiece.h"

#include <gtest/gtest.h>

#include "arrowembed/error.h"

namespace arrowembed::tok {
namespace {

const std::vector<std::pair<std::string, int32_t>>& small_vocab() {
  static const std::vector<std::pair<std::string, int32_t>> vocab = {
      {"[UNK]", 0}, {"ba", 1}, {"##na", 2}, {"banana", 3}, {"ban", 4}, {"##n", 5}, {"##a", 6}, {"##", 7},
      {"caf\xC3\xA9", 8}, {"##\xC3\xA9", 9}, {"na", 10}};
  return vocab;
}

std::vector<int32_t> ids(const WordPiece& wp, std::string_view word, size_t chars) {
  std::vector<Piece> pieces;
  wp.tokenize(word, chars, pieces);
  std::vector<int32_t> out;
  for (const auto& p : pieces) out.push_back(p.id);
  return out;
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  WordPiece wp(small_vocab(), "[UNK]", "##", 100);
  EXPECT_EQ(ids(wp, "banana", 6), (std::vector<int32_t>{3}));
  EXPECT_EQ(ids(wp, "bananas", 7), (std::vector<int32_t>{0}));  // 's' has no piece: whole word unknown
  EXPECT_EQ(ids(wp, "bannana", 7), (std::vector<int32_t>{4, 2, 2}));  // ban ##na ##na
  EXPECT_EQ(ids(wp, "bann", 4), (std::vector<int32_t>{4, 5}));        // ban ##n
  EXPECT_EQ(ids(wp, "nana", 4), (std::vector<int32_t>{10, 2}));
  EXPECT_EQ(ids(wp, "ba\xC3\xA9", 3), (std::vector<int32_t>{1, 9}));
}

TEST(WordPiece, OffsetsAreBytesWithinTheWord) {
  WordPiece wp(small_vocab(), "[UNK]", "##", 100);
  std::vector<Piece> pieces;
  wp.tokenize("ba\xC3\xA9", 3, pieces);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[1].begin, 2u);
  EXPECT_EQ(pieces[1].end, 4u);
  wp.tokenize("zzz", 3, pieces);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].id, 0);
  EXPECT_EQ(pieces[0].end, 3u);
}

TEST(WordPiece, LongWordsAreUnknownByCharacterCount) {
  WordPiece wp(small_vocab(), "[UNK]", "##", 3);
  EXPECT_EQ(ids(wp, "ban", 3), (std::vector<int32_t>{4}));
  EXPECT_EQ(ids(wp, "bana", 4), (std::vector<int32_t>{0}));
}

TEST(WordPiece, MissingUnknownTokenIsAnError) {
  EXPECT_THROW(WordPiece(small_vocab(), "<unk>", "##", 100), Error);
}

TEST(ByteTrie, LongestPrefix) {
  ByteTrie trie({{"a", 1}, {"ab", 2}, {"abcd", 3}, {"", 9}});
  EXPECT_EQ(trie.longest_prefix("abc").id, 2);
  EXPECT_EQ(trie.longest_prefix("abc").length, 2u);
  EXPECT_EQ(trie.longest_prefix("abcde").id, 3);
  EXPECT_EQ(trie.longest_prefix("b").length, 0u);
  EXPECT_EQ(trie.longest_prefix("").length, 0u);
}

}  // namespace
}  // namespace arrowembed::tok

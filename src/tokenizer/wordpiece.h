#pragma once
// The WordPiece model: greedy longest-match-first segmentation of one word
// into vocabulary pieces, continuation pieces carrying a prefix ("##").
// Same result as HF's models/wordpiece: a word longer than
// max_input_chars_per_word, or with any position where no piece matches,
// becomes a single unknown token.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/byte_trie.h"

namespace arrowembed::tok {

struct WordPieceConfig {
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

struct Piece {
  int32_t id;
  uint32_t begin;  // byte range within the word
  uint32_t end;
};

class WordPiece {
 public:
  WordPiece() = default;
  // Throws arrowembed::Error if the unknown token is not in the vocabulary.
  // `vocab` must outlive this object (the tries hold views into it).
  WordPiece(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string_view unk_token,
            std::string_view continuing_subword_prefix, size_t max_input_chars_per_word);

  // Replaces `out` with the pieces of `word` (normalized UTF-8, char_count code points).
  void tokenize(std::string_view word, size_t char_count, std::vector<Piece>& out) const {
    out.clear();
    if (char_count > max_input_chars_per_word_) {
      out.push_back({unk_id_, 0, static_cast<uint32_t>(word.size())});
      return;
    }
    size_t start = 0;
    while (start < word.size()) {
      const ByteTrie& trie = start == 0 ? initial_ : continuation_;
      const ByteTrie::Match m = trie.longest_prefix(word.substr(start));
      if (m.length == 0) {
        out.clear();
        out.push_back({unk_id_, 0, static_cast<uint32_t>(word.size())});
        return;
      }
      out.push_back({m.id, static_cast<uint32_t>(start), static_cast<uint32_t>(start + m.length)});
      start += m.length;
    }
  }

  int32_t unk_id() const { return unk_id_; }

 private:
  ByteTrie initial_;       // every vocabulary entry, matched at the start of a word
  ByteTrie continuation_;  // entries starting with the prefix, prefix removed
  int32_t unk_id_ = -1;
  size_t max_input_chars_per_word_ = 100;
};

}  // namespace arrowembed::tok

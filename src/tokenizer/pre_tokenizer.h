#pragma once
// HF's BertPreTokenizer as a sink for the normalizer: whitespace ends a word
// and is dropped; each punctuation character is a word of its own. Words are
// collected as UTF-8 bytes plus, for every byte, the original byte range of
// the character it belongs to, so that pieces map back to original offsets.
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace arrowembed::tok {

struct WordBuffer {
  std::string bytes;
  std::vector<uint32_t> origin_begin;  // per byte of `bytes`
  std::vector<uint32_t> origin_end;
  size_t char_count = 0;

  void clear() {
    bytes.clear();
    origin_begin.clear();
    origin_end.clear();
    char_count = 0;
  }
  void append(char32_t cp, uint32_t begin, uint32_t end) {
    char encoded[4];
    const int n = encode_utf8(cp, encoded);
    bytes.append(encoded, n);
    for (int k = 0; k < n; ++k) {
      origin_begin.push_back(begin);
      origin_end.push_back(end);
    }
    ++char_count;
  }
};

// Handler requirements: bool operator()(const WordBuffer& word); false stops.
template <class Handler>
class WordSplitter {
 public:
  WordSplitter(bool enabled, WordBuffer& word, Handler& handler)
      : enabled_(enabled), word_(word), handler_(handler), flags_(bmp_flag_table()) {
    word_.clear();
  }

  bool push(char32_t cp, uint32_t begin, uint32_t end) {
    if (!enabled_) {  // no pre-tokenizer: the whole segment is one word
      word_.append(cp, begin, end);
      return true;
    }
    const uint8_t flags = char_flags(flags_, cp);
    if (flags & kWhitespace) return finish();
    if (flags & kPunctuation) {
      if (!finish()) return false;
      word_.append(cp, begin, end);
      return finish();
    }
    word_.append(cp, begin, end);
    return true;
  }

  // Ends the current word (if any) and hands it over.
  bool finish() {
    if (word_.char_count == 0) return true;
    const bool go_on = handler_(word_);
    word_.clear();
    return go_on;
  }

 private:
  bool enabled_;
  WordBuffer& word_;
  Handler& handler_;
  const uint8_t* flags_;
};

}  // namespace arrowembed::tok

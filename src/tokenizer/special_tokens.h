#pragma once
// Finds special (added) tokens such as "[SEP]" in raw input text. HF splits
// the input on them before normalization, leftmost-longest, and emits their
// ids directly; the text between them is tokenized normally.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace arrowembed::tok {

struct SpecialToken {
  std::string content;
  int32_t id;
};

class SpecialTokenMatcher {
 public:
  SpecialTokenMatcher() = default;
  explicit SpecialTokenMatcher(std::vector<SpecialToken> tokens);

  struct Match {
    size_t begin;
    size_t end;
    int32_t id;
  };
  // Leftmost (then longest) occurrence at or after `from`; begin == npos if none.
  Match find(std::string_view text, size_t from) const;

 private:
  std::vector<SpecialToken> tokens_;  // sorted longest first
  bool first_byte_[256] = {};
  std::string first_bytes_;  // the distinct first bytes, for a fast scan
};

}  // namespace arrowembed::tok

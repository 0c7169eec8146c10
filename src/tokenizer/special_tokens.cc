#include "tokenizer/special_tokens.h"

#include <algorithm>
#include <cstring>

namespace arrowembed::tok {

SpecialTokenMatcher::SpecialTokenMatcher(std::vector<SpecialToken> tokens) : tokens_(std::move(tokens)) {
  std::erase_if(tokens_, [](const SpecialToken& t) { return t.content.empty(); });
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const SpecialToken& a, const SpecialToken& b) { return a.content.size() > b.content.size(); });
  for (const SpecialToken& t : tokens_) {
    const auto byte = static_cast<unsigned char>(t.content[0]);
    if (!first_byte_[byte]) first_bytes_.push_back(static_cast<char>(byte));
    first_byte_[byte] = true;
  }
}

SpecialTokenMatcher::Match SpecialTokenMatcher::find(std::string_view text, size_t from) const {
  constexpr size_t npos = std::string_view::npos;
  if (tokens_.empty()) return {npos, npos, -1};
  size_t i = from;
  while (i < text.size()) {
    // BERT's tokens all start with '[': memchr for it is the common case.
    if (first_bytes_.size() == 1) {
      const void* hit = std::memchr(text.data() + i, first_bytes_[0], text.size() - i);
      if (hit == nullptr) break;
      i = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    } else if (!first_byte_[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    for (const SpecialToken& t : tokens_) {  // longest first
      if (text.compare(i, t.content.size(), t.content) == 0) return {i, i + t.content.size(), t.id};
    }
    ++i;
  }
  return {npos, npos, -1};
}

}  // namespace arrowembed::tok

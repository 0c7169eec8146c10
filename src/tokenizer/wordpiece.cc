#include "tokenizer/wordpiece.h"

#include "arrowembed/error.h"

namespace arrowembed::tok {

WordPiece::WordPiece(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string_view unk_token,
                     std::string_view prefix, size_t max_input_chars_per_word)
    : max_input_chars_per_word_(max_input_chars_per_word) {
  std::vector<std::pair<std::string_view, int32_t>> initial;
  std::vector<std::pair<std::string_view, int32_t>> continuation;
  initial.reserve(vocab.size());
  for (const auto& [token, id] : vocab) {
    // HF looks up the raw substring at position 0 (so any entry can match
    // there) and prefix + substring elsewhere.
    initial.emplace_back(token, id);
    if (token.size() > prefix.size() && std::string_view(token).starts_with(prefix)) {
      continuation.emplace_back(std::string_view(token).substr(prefix.size()), id);
    }
    if (token == unk_token) unk_id_ = id;
  }
  if (unk_id_ < 0) {
    throw Error("tokenizer.json: WordPiece unk_token '" + std::string(unk_token) +
                "' is not in the vocabulary");
  }
  initial_ = ByteTrie(std::move(initial));
  continuation_ = ByteTrie(std::move(continuation));
}

}  // namespace arrowembed::tok

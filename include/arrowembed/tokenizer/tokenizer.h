#pragma once
// Text -> token ids with exact Hugging Face `tokenizers` parity for BERT-style
// tokenizer.json files (BertNormalizer + BertPreTokenizer + WordPiece +
// TemplateProcessing/BertProcessing). Anything else in the file is rejected
// at load with arrowembed::Error rather than tokenized differently.
//
// Offsets are BYTE offsets into the caller's original UTF-8 text, half-open
// [begin, end). Special tokens added by the post-processor get (0, 0), as in
// Hugging Face. (HF's Python API reports character offsets instead; the
// mapping is the usual byte -> code point index conversion.)
//
// All const methods are thread-safe: a Tokenizer can be shared by any number
// of threads. Copies are cheap and share the immutable tables.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace arrowembed {

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;  // 0 for every token of a single sentence
  std::vector<std::pair<uint32_t, uint32_t>> offsets;  // byte offsets, see above

  size_t size() const { return ids.size(); }
  // There is no padding, so every position is attended to; provided so the
  // engine does not have to know that.
  std::vector<int32_t> attention_mask() const { return std::vector<int32_t>(ids.size(), 1); }
};

class Tokenizer {
 public:
  // Pass as max_length to disable truncation.
  static constexpr size_t kNoTruncation = std::numeric_limits<size_t>::max();

  // Parses a Hugging Face tokenizer.json document. Throws arrowembed::Error
  // when it is malformed or uses a feature this tokenizer does not implement.
  static Tokenizer from_json(std::string_view tokenizer_json);

  // Tokenizes one text. max_length counts the special tokens too (as HF and
  // sentence-transformers do): the text keeps max_length - num_special_tokens()
  // tokens. Throws arrowembed::Error for invalid UTF-8 or a max_length smaller
  // than num_special_tokens().
  Encoding encode(std::string_view text, size_t max_length) const;

  // Same for many texts, results in input order. num_threads > 1 splits the
  // batch across that many threads. Errors name the index of the bad text.
  std::vector<Encoding> encode_batch(std::span<const std::string_view> texts, size_t max_length,
                                     size_t num_threads = 1) const;

  // Number of ids (model vocabulary plus added tokens not in it).
  size_t vocab_size() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Empty view for an id that is not in the vocabulary.
  std::string_view id_to_token(int32_t id) const;
  // How many tokens the post-processor adds to a single sentence ([CLS] and [SEP]: 2).
  size_t num_special_tokens() const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace arrowembed

// Tokenizer: ties the pipeline together (special-token split -> normalizer ->
// pre-tokenizer -> WordPiece -> template) and owns the immutable tables.
#include "arrowembed/tokenizer/tokenizer.h"

#include <algorithm>
#include <exception>
#include <string>
#include <thread>
#include <unordered_map>

#include "arrowembed/error.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/utf8.h"

namespace arrowembed {

using tok::Piece;
using tok::WordBuffer;

struct Tokenizer::Impl {
  tok::TokenizerSpec spec;  // owns the vocabulary strings the tables below view
  tok::WordPiece wordpiece;
  tok::SpecialTokenMatcher special_matcher;
  std::unordered_map<std::string_view, int32_t> token_ids;
  std::vector<std::string_view> id_tokens;  // indexed by id; empty for unused ids

  Encoding encode(std::string_view text, size_t max_length) const;
};

namespace {

// Per-thread buffers reused across calls so encoding does not allocate per word.
struct Scratch {
  WordBuffer word;
  std::vector<tok::PendingMark> pending;
  std::vector<Piece> pieces;
};

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Receives finished words: runs WordPiece and appends pieces to the encoding
// until the sequence budget (max_length minus special tokens) is used up.
struct WordEncoder {
  const tok::WordPiece& wordpiece;
  std::vector<Piece>& pieces;
  Encoding& out;
  int32_t type_id;
  size_t budget_end;  // out.ids.size() must not exceed this

  bool operator()(const WordBuffer& word) {
    wordpiece.tokenize(word.bytes, word.char_count, pieces);
    for (const Piece& piece : pieces) {
      if (out.ids.size() >= budget_end) return false;
      out.ids.push_back(piece.id);
      out.type_ids.push_back(type_id);
      out.offsets.emplace_back(word.origin_begin[piece.begin], word.origin_end[piece.end - 1]);
    }
    return out.ids.size() < budget_end;
  }
};

void append_specials(const std::vector<tok::TemplateSpecial>& specials, Encoding& out) {
  for (const auto& special : specials) {
    for (int32_t id : special.ids) {
      out.ids.push_back(id);
      out.type_ids.push_back(special.type_id);
      out.offsets.emplace_back(0, 0);
    }
  }
}

}  // namespace

Encoding Tokenizer::Impl::encode(std::string_view text, size_t max_length) const {
  if (text.size() > std::numeric_limits<uint32_t>::max()) throw Error("text longer than 4 GiB");
  if (const size_t bad = tok::find_invalid_utf8(text); bad != tok::kValidUtf8) {
    throw Error("invalid UTF-8 at byte " + std::to_string(bad));
  }
  const tok::SingleTemplate& post = spec.post_processor;
  const size_t added = post.added_token_count();
  if (max_length < added) {
    throw Error("max_length " + std::to_string(max_length) + " is smaller than the " + std::to_string(added) +
                " special tokens the tokenizer adds");
  }
  Encoding out;
  const size_t expected = std::min(max_length, text.size() / 3 + added + 4);
  out.ids.reserve(expected);
  out.type_ids.reserve(expected);
  out.offsets.reserve(expected);
  append_specials(post.before, out);

  const size_t budget_end = max_length == kNoTruncation ? kNoTruncation : out.ids.size() + (max_length - added);
  Scratch& scratch = thread_scratch();
  WordEncoder encoder{wordpiece, scratch.pieces, out, post.sequence_type_id, budget_end};
  tok::WordSplitter<WordEncoder> splitter(spec.bert_pre_tokenizer, scratch.word, encoder);
  tok::NormalizingScanner<decltype(splitter)> scanner(spec.normalizer, scratch.pending, splitter);

  size_t position = 0;
  while (out.ids.size() < budget_end) {
    const auto match = special_matcher.find(text, position);
    const size_t segment_end = match.begin == std::string_view::npos ? text.size() : match.begin;
    // Each segment between special tokens is normalized and split on its own, as in HF.
    if (!scanner.scan(text, position, segment_end) || !splitter.finish()) break;
    if (match.begin == std::string_view::npos || out.ids.size() >= budget_end) break;
    out.ids.push_back(match.id);
    out.type_ids.push_back(post.sequence_type_id);
    out.offsets.emplace_back(static_cast<uint32_t>(match.begin), static_cast<uint32_t>(match.end));
    position = match.end;
  }
  scratch.word.clear();
  append_specials(post.after, out);
  return out;
}

Tokenizer Tokenizer::from_json(std::string_view tokenizer_json) {
  auto impl = std::make_shared<Impl>();
  impl->spec = tok::parse_tokenizer_json(tokenizer_json);
  const auto& config = impl->spec.wordpiece;

  int32_t max_id = -1;
  impl->token_ids.reserve(config.vocab.size() + impl->spec.special_tokens.size());
  for (const auto& [token, id] : config.vocab) {
    max_id = std::max(max_id, id);
    // JSON allows repeated keys; HF would silently keep one. Refuse instead.
    if (!impl->token_ids.emplace(token, id).second) {
      throw Error("tokenizer.json: model.vocab has the token \"" + token + "\" twice");
    }
  }
  for (const auto& special : impl->spec.special_tokens) {
    // HF lets added tokens take precedence over the model vocabulary.
    impl->token_ids[special.content] = special.id;
    max_id = std::max(max_id, special.id);
  }
  impl->id_tokens.assign(static_cast<size_t>(max_id) + 1, std::string_view());
  for (const auto& [token, id] : config.vocab) {
    if (!impl->id_tokens[id].empty()) {
      throw Error("tokenizer.json: id " + std::to_string(id) + " is used by both \"" +
                  std::string(impl->id_tokens[id]) + "\" and \"" + token + "\"");
    }
    impl->id_tokens[id] = token;
  }
  for (const auto& special : impl->spec.special_tokens) {
    const auto& existing = impl->id_tokens[special.id];
    if (!existing.empty() && existing != special.content) {
      throw Error("tokenizer.json: added token \"" + special.content + "\" reuses id " + std::to_string(special.id) +
                  " of \"" + std::string(existing) + "\"");
    }
    impl->id_tokens[special.id] = special.content;
  }
  for (const auto* part : {&impl->spec.post_processor.before, &impl->spec.post_processor.after}) {
    for (const auto& special : *part) {
      for (int32_t id : special.ids) {
        if (id > max_id || impl->id_tokens[id].empty()) {
          throw Error("tokenizer.json: post_processor uses id " + std::to_string(id) + ", which is not in the vocabulary");
        }
      }
    }
  }

  impl->wordpiece = tok::WordPiece(config.vocab, config.unk_token, config.continuing_subword_prefix,
                                   config.max_input_chars_per_word);
  impl->special_matcher = tok::SpecialTokenMatcher(impl->spec.special_tokens);
  return Tokenizer(std::move(impl));
}

Encoding Tokenizer::encode(std::string_view text, size_t max_length) const { return impl_->encode(text, max_length); }

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string_view> texts, size_t max_length,
                                              size_t num_threads) const {
  std::vector<Encoding> results(texts.size());
  num_threads = std::clamp<size_t>(num_threads, 1, std::max<size_t>(texts.size(), 1));
  // Contiguous chunks; the first failing index (lowest) wins so errors are deterministic.
  std::vector<size_t> failed_index(num_threads, texts.size());
  std::vector<std::string> failed_message(num_threads);
  auto work = [&](size_t worker) {
    const size_t begin = texts.size() * worker / num_threads;
    const size_t end = texts.size() * (worker + 1) / num_threads;
    for (size_t i = begin; i < end; ++i) {
      try {
        results[i] = impl_->encode(texts[i], max_length);
      } catch (const Error& e) {
        failed_index[worker] = i;
        failed_message[worker] = e.what();
        return;
      }
    }
  };
  if (num_threads == 1) {
    work(0);
  } else {
    std::vector<std::jthread> threads;
    for (size_t w = 1; w < num_threads; ++w) threads.emplace_back(work, w);
    work(0);
  }
  for (size_t w = 0; w < num_threads; ++w) {
    if (failed_index[w] < texts.size()) {
      throw Error("text " + std::to_string(failed_index[w]) + ": " + failed_message[w]);
    }
  }
  return results;
}

size_t Tokenizer::vocab_size() const { return impl_->token_ids.size(); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->token_ids.find(token);
  if (it == impl_->token_ids.end()) return std::nullopt;
  return it->second;
}

std::string_view Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_tokens.size()) return {};
  return impl_->id_tokens[id];
}

size_t Tokenizer::num_special_tokens() const { return impl_->spec.post_processor.added_token_count(); }

}  // namespace arrowembed

#pragma once
// HF's BertNormalizer as a streaming pass: it reads original UTF-8 text and
// pushes normalized code points, each tagged with the byte range of the
// original character it came from, to a sink (the pre-tokenizer). Steps, in
// HF's order: clean_text, handle_chinese_chars, strip_accents (NFD, then drop
// Mn), lowercase. Streaming avoids building the normalized string at all.
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace arrowembed::tok {

struct NormalizerOptions {
  bool clean_text = false;
  bool handle_chinese_chars = false;
  bool strip_accents = false;
  bool lowercase = false;
};

// A decomposed non-starter waiting for canonical ordering.
struct PendingMark {
  char32_t cp;
  int ccc;
  uint32_t begin;
  uint32_t end;
};

// Sink requirements: bool push(char32_t cp, uint32_t begin, uint32_t end);
// returning false stops the scan (the token budget is used up).
template <class Sink>
class NormalizingScanner {
 public:
  NormalizingScanner(const NormalizerOptions& options, std::vector<PendingMark>& pending, Sink& sink)
      : options_(options), pending_(pending), sink_(sink), flags_(bmp_flag_table()) {}

  // Scans text[begin, end); `text` must be valid UTF-8. Returns false if the
  // sink stopped early.
  bool scan(std::string_view text, size_t begin, size_t end) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    pending_.clear();
    size_t i = begin;
    while (i < end) {
      if (p[i] < 0x80) {
        // ASCII: no decomposition, no combining class, one-byte lowercase.
        if (!pending_.empty() && !flush_pending()) return false;
        if (!ascii(p[i], static_cast<uint32_t>(i))) return false;
        ++i;
        continue;
      }
      int length;
      const char32_t cp = decode_utf8(p + i, length);
      if (!clean(cp, static_cast<uint32_t>(i), static_cast<uint32_t>(i + length))) return false;
      i += length;
    }
    return flush_pending();
  }

 private:
  bool ascii(unsigned char c, uint32_t at) {
    const uint8_t flags = flags_[c];
    if (options_.clean_text) {
      if (c == 0 || (flags & kControl)) return true;
      if (flags & kWhitespace) c = ' ';
    }
    if (options_.lowercase && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + ('a' - 'A'));
    return sink_.push(c, at, at + 1);
  }

  // Step 1: clean_text drops NUL, U+FFFD and controls and turns whitespace into ' '.
  bool clean(char32_t cp, uint32_t begin, uint32_t end) {
    const uint8_t flags = char_flags(flags_, cp);
    if (options_.clean_text) {
      if (cp == 0xFFFD || (flags & kControl)) return true;
      if (flags & kWhitespace) return decompose(' ', begin, end);
    }
    // Step 2: handle_chinese_chars surrounds the ideograph with spaces.
    if (options_.handle_chinese_chars && (flags & kChinese)) {
      return decompose(' ', begin, end) && decompose(cp, begin, end) && decompose(' ', begin, end);
    }
    if ((flags & kInert) && pending_.empty()) return after_nfd(cp, flags, begin, end);
    return decompose(cp, begin, end);
  }

  // Step 3a: NFD = full canonical decomposition + canonical ordering of marks.
  bool decompose(char32_t cp, uint32_t begin, uint32_t end) {
    if (!options_.strip_accents) return after_nfd(cp, char_flags(flags_, cp), begin, end);
    char32_t parts[kMaxDecomposition];
    const int n = decompose_canonical(cp, parts);
    for (int k = 0; k < n; ++k) {
      const int ccc = combining_class(parts[k]);
      if (ccc == 0) {
        if (!flush_pending()) return false;
        if (!after_nfd(parts[k], char_flags(flags_, parts[k]), begin, end)) return false;
      } else {
        pending_.push_back({parts[k], ccc, begin, end});
      }
    }
    return true;
  }

  bool flush_pending() {
    if (pending_.empty()) return true;
    // Stable insertion sort by combining class: runs are a few marks long.
    // Only the characters move; the original ranges stay in place, because
    // HF's alignment tracking is positional (the k-th character of the run
    // keeps the k-th alignment), and we reproduce its offsets.
    for (size_t a = 1; a < pending_.size(); ++a) {
      const char32_t cp = pending_[a].cp;
      const int ccc = pending_[a].ccc;
      size_t b = a;
      while (b > 0 && pending_[b - 1].ccc > ccc) {
        pending_[b].cp = pending_[b - 1].cp;
        pending_[b].ccc = pending_[b - 1].ccc;
        --b;
      }
      pending_[b].cp = cp;
      pending_[b].ccc = ccc;
    }
    for (const PendingMark& mark : pending_) {
      if (!after_nfd(mark.cp, char_flags(flags_, mark.cp), mark.begin, mark.end)) {
        pending_.clear();
        return false;
      }
    }
    pending_.clear();
    return true;
  }

  // Step 3b (drop non-spacing marks) and step 4 (lowercase).
  bool after_nfd(char32_t cp, uint8_t flags, uint32_t begin, uint32_t end) {
    if (options_.strip_accents && (flags & kNonspacingMark)) return true;
    if (!options_.lowercase || (flags & kInert)) return sink_.push(cp, begin, end);
    char32_t lower[kMaxLowercase];
    const int n = to_lowercase(cp, lower);
    for (int k = 0; k < n; ++k) {
      if (!sink_.push(lower[k], begin, end)) return false;
    }
    return true;
  }

  const NormalizerOptions& options_;
  std::vector<PendingMark>& pending_;
  Sink& sink_;
  const uint8_t* flags_;
};

}  // namespace arrowembed::tok

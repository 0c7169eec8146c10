#pragma once
// The post-processor for single sentences: TemplateProcessing's "single"
// template (or BertProcessing, which is the fixed template [CLS] $A [SEP]).
// It wraps the sequence's tokens in special tokens with their type ids.
#include <cstdint>
#include <vector>

namespace arrowembed::tok {

struct TemplateSpecial {
  std::vector<int32_t> ids;
  int32_t type_id = 0;
};

struct SingleTemplate {
  std::vector<TemplateSpecial> before;  // special tokens before $A
  std::vector<TemplateSpecial> after;   // special tokens after $A
  int32_t sequence_type_id = 0;

  size_t added_token_count() const {
    size_t n = 0;
    for (const auto& s : before) n += s.ids.size();
    for (const auto& s : after) n += s.ids.size();
    return n;
  }
};

}  // namespace arrowembed::tok

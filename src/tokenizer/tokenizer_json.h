#pragma once
// Reads a Hugging Face tokenizer.json into a TokenizerSpec, rejecting every
// feature this implementation does not reproduce exactly.
#include <string_view>

#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/wordpiece.h"

namespace arrowembed::tok {

struct TokenizerSpec {
  NormalizerOptions normalizer;
  bool bert_pre_tokenizer = false;  // false: no pre-tokenizer
  WordPieceConfig wordpiece;
  std::vector<SpecialToken> special_tokens;  // from "added_tokens"
  SingleTemplate post_processor;
};

// Throws arrowembed::Error naming the unsupported or malformed field.
TokenizerSpec parse_tokenizer_json(std::string_view json);

}  // namespace arrowembed::tok

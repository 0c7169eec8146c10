#include "tokenizer/tokenizer_json.h"

// simdjson rather than nlohmann-json: a tokenizer.json is mostly one big vocab
// object (30k entries for BERT) and simdjson's DOM parses it in ~1-2 ms where
// nlohmann's takes ~10 ms plus a std::map per object; the engine loads in
// milliseconds, so this is most of its tokenizer construction time.
#include <simdjson.h>

#include <limits>
#include <optional>
#include <string>

#include "arrowembed/error.h"

namespace arrowembed::tok {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void fail(const std::string& what) { throw Error("tokenizer.json: " + what); }

// Absent and null mean the same in tokenizer.json: both become nullopt.
using MaybeElement = std::optional<element>;

MaybeElement optional_member(const object& o, std::string_view key) {
  element value;
  if (o.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

element member(const object& o, std::string_view key, const std::string& where) {
  element value;
  if (o.at_key(key).get(value) != simdjson::SUCCESS) fail(where + " has no \"" + std::string(key) + "\"");
  return value;
}

object object_of(const element& e, const std::string& where) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) fail(where + " must be an object");
  return o;
}

bool bool_or(const object& o, std::string_view key, bool fallback, const std::string& where) {
  const MaybeElement value = optional_member(o, key);
  if (!value) return fallback;
  bool result;
  if (value->get_bool().get(result) != simdjson::SUCCESS) fail(where + "." + std::string(key) + " must be a boolean");
  return result;
}

std::string string_of(const element& value, const std::string& where) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) fail(where + " must be a string");
  return std::string(s);
}

int32_t id_of(const element& value, const std::string& where) {
  int64_t id;
  if (value.get_int64().get(id) != simdjson::SUCCESS || id < 0 || id > std::numeric_limits<int32_t>::max()) {
    fail(where + " must be a non-negative 32-bit integer id");
  }
  return static_cast<int32_t>(id);
}

// A component ("normalizer", ...) is null or an object with a string "type".
std::string type_of(const element& component, const std::string& where) {
  object o;
  if (component.get_object().get(o) != simdjson::SUCCESS) fail(where + " must be an object or null");
  return string_of(member(o, "type", where), where + ".type");
}

NormalizerOptions parse_normalizer(const MaybeElement& node) {
  if (!node) return {};
  const std::string type = type_of(*node, "normalizer");
  if (type != "BertNormalizer") fail("normalizer type \"" + type + "\" is not supported (only BertNormalizer)");
  const object o = object_of(*node, "normalizer");
  NormalizerOptions options;
  options.clean_text = bool_or(o, "clean_text", true, "normalizer");
  options.handle_chinese_chars = bool_or(o, "handle_chinese_chars", true, "normalizer");
  options.lowercase = bool_or(o, "lowercase", true, "normalizer");
  // strip_accents: null means "do whatever lowercase does" (BERT's uncased models).
  options.strip_accents = bool_or(o, "strip_accents", options.lowercase, "normalizer");
  return options;
}

bool parse_pre_tokenizer(const MaybeElement& node) {
  if (!node) return false;
  const std::string type = type_of(*node, "pre_tokenizer");
  if (type != "BertPreTokenizer") {
    fail("pre_tokenizer type \"" + type + "\" is not supported (only BertPreTokenizer)");
  }
  return true;
}

WordPieceConfig parse_model(const element& node) {
  const std::string type = type_of(node, "model");
  if (type != "WordPiece") fail("model type \"" + type + "\" is not supported (only WordPiece)");
  const object model = object_of(node, "model");
  WordPieceConfig config;
  object vocab;
  if (member(model, "vocab", "model").get_object().get(vocab) != simdjson::SUCCESS || vocab.size() == 0) {
    fail("model.vocab must be a non-empty object");
  }
  config.vocab.reserve(vocab.size());
  // Repeated keys (legal JSON) are rejected by Tokenizer::from_json.
  for (const auto field : vocab) {
    config.vocab.emplace_back(std::string(field.key), id_of(field.value, "model.vocab[\"" + std::string(field.key) + "\"]"));
  }
  config.unk_token = string_of(member(model, "unk_token", "model"), "model.unk_token");
  if (const MaybeElement prefix = optional_member(model, "continuing_subword_prefix")) {
    config.continuing_subword_prefix = string_of(*prefix, "model.continuing_subword_prefix");
  }
  if (const MaybeElement limit = optional_member(model, "max_input_chars_per_word")) {
    uint64_t value;
    if (limit->get_uint64().get(value) != simdjson::SUCCESS) {
      fail("model.max_input_chars_per_word must be a non-negative integer");
    }
    config.max_input_chars_per_word = static_cast<size_t>(value);
  }
  return config;
}

std::vector<SpecialToken> parse_added_tokens(const MaybeElement& node) {
  std::vector<SpecialToken> tokens;
  if (!node) return tokens;
  simdjson::dom::array entries;
  if (node->get_array().get(entries) != simdjson::SUCCESS) fail("added_tokens must be an array");
  for (const element entry_element : entries) {
    const object entry = object_of(entry_element, "added_tokens entries");
    SpecialToken token{string_of(member(entry, "content", "added_tokens[]"), "added_tokens[].content"),
                       id_of(member(entry, "id", "added_tokens[]"), "added_tokens[].id")};
    const std::string where = "added token \"" + token.content + "\"";
    // Only the BERT kind is reproduced: special, matched verbatim in the raw
    // text. Anything else changes how HF splits text, so refuse it.
    if (!bool_or(entry, "special", false, where)) fail(where + " is not special; non-special added tokens are not supported");
    if (bool_or(entry, "normalized", false, where)) fail(where + " has normalized=true, which is not supported");
    if (bool_or(entry, "lstrip", false, where) || bool_or(entry, "rstrip", false, where)) {
      fail(where + " uses lstrip/rstrip, which is not supported");
    }
    if (bool_or(entry, "single_word", false, where)) fail(where + " uses single_word, which is not supported");
    if (token.content.empty()) fail(where + " is empty");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

TemplateSpecial template_special(const object& special_tokens, const std::string& name, int32_t type_id) {
  element entry;
  if (special_tokens.at_key(name).get(entry) != simdjson::SUCCESS) {
    fail("post_processor template uses \"" + name + "\" missing from special_tokens");
  }
  const std::string where = "post_processor.special_tokens[\"" + name + "\"]";
  simdjson::dom::array ids;
  if (member(object_of(entry, where), "ids", where).get_array().get(ids) != simdjson::SUCCESS || ids.size() == 0) {
    fail(where + ".ids must be a non-empty array");
  }
  TemplateSpecial special;
  special.type_id = type_id;
  for (const element id : ids) special.ids.push_back(id_of(id, "post_processor special token id"));
  return special;
}

SingleTemplate parse_template_processing(const object& node) {
  simdjson::dom::array single;
  if (member(node, "single", "post_processor").get_array().get(single) != simdjson::SUCCESS) {
    fail("post_processor.single must be an array");
  }
  const object special_tokens = object_of(member(node, "special_tokens", "post_processor"), "post_processor.special_tokens");
  SingleTemplate result;
  bool seen_sequence = false;
  for (const element piece_element : single) {
    const object piece = object_of(piece_element, "post_processor.single entries");
    if (const MaybeElement seq = optional_member(piece, "Sequence")) {
      const object s = object_of(*seq, "post_processor Sequence");
      if (string_of(member(s, "id", "post_processor Sequence"), "Sequence.id") != "A" || seen_sequence) {
        fail("post_processor.single must contain the sequence $A exactly once");
      }
      result.sequence_type_id = id_of(member(s, "type_id", "post_processor Sequence"), "Sequence.type_id");
      seen_sequence = true;
    } else if (const MaybeElement sp = optional_member(piece, "SpecialToken")) {
      const object s = object_of(*sp, "post_processor SpecialToken");
      auto special = template_special(special_tokens, string_of(member(s, "id", "SpecialToken"), "SpecialToken.id"),
                                      id_of(member(s, "type_id", "SpecialToken"), "SpecialToken.type_id"));
      (seen_sequence ? result.after : result.before).push_back(std::move(special));
    } else {
      fail("post_processor.single has an entry that is neither Sequence nor SpecialToken");
    }
  }
  if (!seen_sequence) fail("post_processor.single must contain the sequence $A exactly once");
  return result;
}

SingleTemplate parse_bert_processing(const object& node) {
  // "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
  auto pair_id = [&](const char* key) {
    simdjson::dom::array pair;
    if (member(node, key, "post_processor").get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2) {
      fail(std::string("post_processor.") + key + " must be [token, id]");
    }
    return id_of(pair.at(1).value_unsafe(), std::string("post_processor.") + key + " id");
  };
  SingleTemplate result;
  result.before.push_back({{pair_id("cls")}, 0});
  result.after.push_back({{pair_id("sep")}, 0});
  return result;
}

SingleTemplate parse_post_processor(const MaybeElement& node) {
  if (!node) return {};
  const std::string type = type_of(*node, "post_processor");
  const object o = object_of(*node, "post_processor");
  if (type == "TemplateProcessing") return parse_template_processing(o);
  if (type == "BertProcessing") return parse_bert_processing(o);
  fail("post_processor type \"" + type + "\" is not supported (only TemplateProcessing, BertProcessing)");
}

}  // namespace

TokenizerSpec parse_tokenizer_json(std::string_view text) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  element root;
  if (const auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    fail(std::string("not valid JSON (") + simdjson::error_message(error) + ")");
  }
  object document;
  if (root.get_object().get(document) != simdjson::SUCCESS) fail("the document must be a JSON object");
  TokenizerSpec spec;
  spec.normalizer = parse_normalizer(optional_member(document, "normalizer"));
  spec.bert_pre_tokenizer = parse_pre_tokenizer(optional_member(document, "pre_tokenizer"));
  spec.wordpiece = parse_model(member(document, "model", "the document"));
  spec.special_tokens = parse_added_tokens(optional_member(document, "added_tokens"));
  spec.post_processor = parse_post_processor(optional_member(document, "post_processor"));
  return spec;
}

}  // namespace arrowembed::tok

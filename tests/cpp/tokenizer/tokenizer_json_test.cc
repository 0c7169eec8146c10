// tokenizer.json loading: supported variants work, everything else is a
// clear arrowembed::Error at load time. Expected ids of the tiny tokenizer's
// variants were checked with Hugging Face `tokenizers` (Tokenizer.from_str).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "arrowembed/error.h"
#include "arrowembed/tokenizer/tokenizer.h"

namespace arrowembed {
namespace {

using nlohmann::json;

json tiny_tokenizer() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [
      {"id": 0, "content": "[UNK]", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
      {"id": 1, "content": "[CLS]", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
      {"id": 2, "content": "[SEP]", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
      "pair": [],
      "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
      "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "cafe": 3, "caf": 4, "##e": 5, "##\u00e9": 6, "CAF": 7, "\u00c9": 8, "!": 9, "\u00e9": 10}}
  })");
}

std::vector<int32_t> ids_of(const json& config, std::string_view text) {
  return Tokenizer::from_json(config.dump()).encode(text, Tokenizer::kNoTruncation).ids;
}

void expect_load_error(const json& config, const std::string& fragment) {
  try {
    Tokenizer::from_json(config.dump());
    FAIL() << "expected an error mentioning: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(TokenizerJson, TinyTokenizerWorks) {
  EXPECT_EQ(ids_of(tiny_tokenizer(), "Caf\u00e9!"), (std::vector<int32_t>{1, 3, 9, 2}));
}

TEST(TokenizerJson, StripAccentsNullFollowsLowercase) {
  json config = tiny_tokenizer();
  config["normalizer"]["lowercase"] = false;  // cased: accents kept too
  EXPECT_EQ(ids_of(config, "CAF\u00c9"), (std::vector<int32_t>{1, 0, 2}));  // no "##É" piece: the whole word is unknown
  EXPECT_EQ(ids_of(config, "\u00c9"), (std::vector<int32_t>{1, 8, 2}));
  config["normalizer"]["strip_accents"] = true;  // explicit: strip but do not lowercase
  EXPECT_EQ(ids_of(config, "caf\u00e9"), (std::vector<int32_t>{1, 3, 2}));
  config["normalizer"]["strip_accents"] = false;
  config["normalizer"]["lowercase"] = true;
  EXPECT_EQ(ids_of(config, "CAF\u00c9"), (std::vector<int32_t>{1, 4, 6, 2}));
}

TEST(TokenizerJson, OptionalComponentsMayBeNull) {
  json config = tiny_tokenizer();
  config["normalizer"] = nullptr;
  config["post_processor"] = nullptr;
  config["added_tokens"] = json::array();
  // Without added tokens "[SEP]" is plain text: "[", "SEP", "]", all unknown here.
  EXPECT_EQ(ids_of(config, "cafe [SEP]"), (std::vector<int32_t>{3, 0, 0, 0}));
  EXPECT_EQ(Tokenizer::from_json(config.dump()).num_special_tokens(), 0u);
  config["pre_tokenizer"] = nullptr;  // whole text is one word
  EXPECT_EQ(ids_of(config, "cafe"), (std::vector<int32_t>{3}));
  EXPECT_EQ(ids_of(config, "cafe cafe"), (std::vector<int32_t>{0}));
}

TEST(TokenizerJson, BertProcessing) {
  json config = tiny_tokenizer();
  config["post_processor"] = json::parse(R"({"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]})");
  EXPECT_EQ(ids_of(config, "cafe"), (std::vector<int32_t>{1, 3, 2}));
}

TEST(TokenizerJson, TemplateTypeIdsAreKept) {
  json config = tiny_tokenizer();
  config["post_processor"]["single"][1]["Sequence"]["type_id"] = 1;
  const Encoding e = Tokenizer::from_json(config.dump()).encode("cafe", 10);
  EXPECT_EQ(e.type_ids, (std::vector<int32_t>{0, 1, 0}));
}

TEST(TokenizerJson, RejectsUnsupportedFeatures) {
  json c = tiny_tokenizer();
  c["model"]["type"] = "BPE";
  expect_load_error(c, "model type \"BPE\" is not supported");
  c = tiny_tokenizer();
  c["normalizer"] = json::parse(R"({"type": "NFKC"})");
  expect_load_error(c, "normalizer type \"NFKC\"");
  c = tiny_tokenizer();
  c["pre_tokenizer"] = json::parse(R"({"type": "Whitespace"})");
  expect_load_error(c, "pre_tokenizer type \"Whitespace\"");
  c = tiny_tokenizer();
  c["post_processor"] = json::parse(R"({"type": "RobertaProcessing"})");
  expect_load_error(c, "post_processor type \"RobertaProcessing\"");
  c = tiny_tokenizer();
  c["added_tokens"][0]["special"] = false;
  expect_load_error(c, "non-special added tokens are not supported");
  c = tiny_tokenizer();
  c["added_tokens"][1]["lstrip"] = true;
  expect_load_error(c, "lstrip/rstrip");
  c = tiny_tokenizer();
  c["added_tokens"][1]["normalized"] = true;
  expect_load_error(c, "normalized=true");
  c = tiny_tokenizer();
  c["added_tokens"][1]["single_word"] = true;
  expect_load_error(c, "single_word");
}

TEST(TokenizerJson, RejectsMalformedDocuments) {
  expect_load_error(json::parse("[1, 2]"), "must be a JSON object");
  try {
    Tokenizer::from_json("{not json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
  }
  json c = tiny_tokenizer();
  c.erase("model");
  expect_load_error(c, "has no \"model\"");
  c = tiny_tokenizer();
  c["model"]["unk_token"] = "<unk>";
  expect_load_error(c, "unk_token '<unk>' is not in the vocabulary");
  c = tiny_tokenizer();
  c["model"]["vocab"]["dup"] = 3;
  expect_load_error(c, "id 3 is used by both");
  c = tiny_tokenizer();
  c["model"]["vocab"]["neg"] = -1;
  expect_load_error(c, "non-negative 32-bit integer id");
  c = tiny_tokenizer();
  c["model"]["vocab"] = json::object();
  expect_load_error(c, "model.vocab must be a non-empty object");
  c = tiny_tokenizer();
  c["post_processor"]["single"] = json::parse(R"([{"SpecialToken": {"id": "[CLS]", "type_id": 0}}])");
  expect_load_error(c, "$A exactly once");
  c = tiny_tokenizer();
  c["post_processor"]["single"][0]["SpecialToken"]["id"] = "[BOS]";
  expect_load_error(c, "\"[BOS]\" missing from special_tokens");
  c = tiny_tokenizer();
  c["post_processor"]["special_tokens"]["[CLS]"]["ids"] = json::array({99});
  expect_load_error(c, "id 99, which is not in the vocabulary");
  c = tiny_tokenizer();
  c["normalizer"]["lowercase"] = "yes";
  expect_load_error(c, "normalizer.lowercase must be a boolean");
  c = tiny_tokenizer();
  c["added_tokens"][0]["id"] = 5;  // "[UNK]" would take the id of "##e"
  expect_load_error(c, "reuses id 5");
}

TEST(TokenizerJson, RepeatedVocabularyKeyIsAnError) {
  std::string text = tiny_tokenizer().dump();
  const std::string entry = "\"cafe\":3";
  ASSERT_NE(text.find(entry), std::string::npos);
  text.replace(text.find(entry), entry.size(), "\"cafe\":3,\"cafe\":4");
  try {
    Tokenizer::from_json(text);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has the token \"cafe\" twice"), std::string::npos) << e.what();
  }
}

TEST(TokenizerJson, AddedTokenOutsideTheVocabularyGetsItsOwnId) {
  json c = tiny_tokenizer();
  c["added_tokens"].push_back(json::parse(
      R"({"id": 11, "content": "<extra>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false})"));
  const Tokenizer tok = Tokenizer::from_json(c.dump());
  EXPECT_EQ(tok.vocab_size(), 12u);
  EXPECT_EQ(tok.token_to_id("<extra>"), 11);
  EXPECT_EQ(tok.id_to_token(11), "<extra>");
  EXPECT_EQ(tok.encode("cafe<extra>", 10).ids, (std::vector<int32_t>{1, 3, 11, 2}));
}

}  // namespace
}  // namespace arrowembed

// Reading Hugging Face / sentence-transformers model directories, and the
// clear errors for the ones we cannot run.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "arrowembed/error.h"
#include "arrowembed/format/model_file.h"
#include "common/test_util.h"

namespace arrowembed {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(testing::read_bytes(p)); }
void write_json(const fs::path& p, const nlohmann::json& j) { testing::write_text(p, j.dump()); }

std::string open_error(const fs::path& path) {
  try {
    ModelFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HfModelDir, ReadsTinyClsModel) {
  ModelFile m = ModelFile::open(testing::tiny_model("tiny-bert-cls"));
  const ModelConfig& c = m.config();
  EXPECT_EQ(m.source_kind(), ModelSourceKind::HuggingFaceDir);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.intermediate_size, 128);
  EXPECT_EQ(c.vocab_size, 300);
  EXPECT_EQ(c.max_position_embeddings, 64);
  EXPECT_EQ(c.max_seq_length, 48);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-7);
  EXPECT_EQ(c.pooling, Pooling::Cls);
  EXPECT_FALSE(c.normalize);
  EXPECT_EQ(c.dtype, DType::F32);
  EXPECT_EQ(m.tensors().size(), 5u + 16u * 2u);
  EXPECT_EQ(m.format_version(), 0);
  EXPECT_GT(m.file_bytes(), 300000u);
  EXPECT_NE(m.tokenizer_json().find("\"WordPiece\""), std::string_view::npos);
  EXPECT_EQ(m.tensor("encoder.layer.1.output.dense.weight").shape, (std::vector<int64_t>{64, 128}));
  EXPECT_EQ(m.find("no.such.tensor"), nullptr);
  EXPECT_THROW(m.tensor("no.such.tensor"), Error);
  EXPECT_NO_THROW(m.verify_checksums());  // no checksums in a HF directory
}

TEST(HfModelDir, StripsBertPrefixAndReadsMeanNormalize) {
  ModelFile m = ModelFile::open(testing::tiny_model("tiny-bert-mean"));
  EXPECT_EQ(m.config().pooling, Pooling::Mean);
  EXPECT_TRUE(m.config().normalize);
  EXPECT_EQ(m.config().max_seq_length, 32);
  EXPECT_NE(m.find("embeddings.word_embeddings.weight"), nullptr);
  EXPECT_EQ(m.find("bert.embeddings.word_embeddings.weight"), nullptr);
}

TEST(HfModelDir, PlainHuggingFaceModelGetsMeanPoolingAndTokenizerLimit) {
  TempDir dir;
  auto model = testing::copy_model(testing::tiny_model("tiny-bert-cls"), dir);
  fs::remove(model / "modules.json");
  fs::remove(model / "sentence_bert_config.json");
  write_json(model / "tokenizer_config.json", {{"model_max_length", 40}});
  ModelFile m = ModelFile::open(model);
  EXPECT_EQ(m.config().pooling, Pooling::Mean);
  EXPECT_FALSE(m.config().normalize);
  EXPECT_EQ(m.config().max_seq_length, 40);
  // Hugging Face's "no limit" sentinel falls back to the position table.
  write_json(model / "tokenizer_config.json", {{"model_max_length", 1000000000000000019LL}});
  EXPECT_EQ(ModelFile::open(model).config().max_seq_length, 64);
}

TEST(HfModelDir, UnsupportedModelsAreClearErrors) {
  TempDir dir;
  const auto src = testing::tiny_model("tiny-bert-cls");
  struct Case {
    const char* name;
    void (*damage)(const fs::path&);
    const char* fragment;
  };
  const Case cases[] = {
      {"no-config", [](const fs::path& m) { fs::remove(m / "config.json"); }, "no config.json"},
      {"roberta",
       [](const fs::path& m) {
         auto j = read_json(m / "config.json");
         j["model_type"] = "roberta";
         write_json(m / "config.json", j);
       },
       "model_type 'roberta' is not supported"},
      {"relative-positions",
       [](const fs::path& m) {
         auto j = read_json(m / "config.json");
         j["position_embedding_type"] = "relative_key";
         write_json(m / "config.json", j);
       },
       "position_embedding_type"},
      {"wrong-hidden",
       [](const fs::path& m) {
         auto j = read_json(m / "config.json");
         j["intermediate_size"] = 256;
         write_json(m / "config.json", j);
       },
       "has shape [128, 64] but the config implies [256, 64]"},
      {"bad-type",
       [](const fs::path& m) {
         auto j = read_json(m / "config.json");
         j["hidden_size"] = "64";
         write_json(m / "config.json", j);
       },
       "'hidden_size' must be an integer"},
      {"vocab-only",
       [](const fs::path& m) {
         fs::remove(m / "tokenizer.json");
         testing::write_text(m / "vocab.txt", "[PAD]\n");
       },
       "vocab.txt alone is not supported"},
      {"broken-tokenizer", [](const fs::path& m) { testing::write_text(m / "tokenizer.json", "{\"model\":"); },
       "invalid JSON"},
      {"pickle-only",
       [](const fs::path& m) {
         fs::rename(m / "model.safetensors", m / "pytorch_model.bin");
       },
       "pytorch_model.bin is a pickle"},
      {"dense-module",
       [](const fs::path& m) {
         auto j = read_json(m / "modules.json");
         j.push_back({{"idx", 3}, {"name", "3"}, {"path", "2_Dense"}, {"type", "sentence_transformers.models.Dense"}});
         write_json(m / "modules.json", j);
       },
       "module 'sentence_transformers.models.Dense' is not supported"},
      {"two-poolings",
       [](const fs::path& m) {
         auto j = read_json(m / "1_Pooling" / "config.json");
         j["pooling_mode_mean_tokens"] = true;
         write_json(m / "1_Pooling" / "config.json", j);
       },
       "exactly one pooling mode"},
      {"no-pooling",
       [](const fs::path& m) {
         write_json(m / "modules.json",
                    nlohmann::json::array({{{"idx", 0}, {"type", "sentence_transformers.models.Transformer"}}}));
       },
       "no Pooling module"},
      {"missing-tensor",
       [](const fs::path& m) {
         auto j = read_json(m / "config.json");
         j["num_hidden_layers"] = 3;
         write_json(m / "config.json", j);
       },
       "missing tensor 'encoder.layer.2."},
  };
  for (const Case& c : cases) {
    auto model = testing::copy_model(src, dir, c.name);
    c.damage(model);
    const std::string error = open_error(model);
    EXPECT_NE(error.find(c.fragment), std::string::npos) << c.name << ": " << error;
  }
}

}  // namespace
}  // namespace arrowembed

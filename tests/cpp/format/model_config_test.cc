#include "arrowembed/format/model_config.h"

#include <gtest/gtest.h>

#include "arrowembed/error.h"
#include "arrowembed/format/bert_layout.h"

namespace arrowembed {
namespace {

ModelConfig minilm() {
  ModelConfig c;
  c.hidden_size = 384;
  c.num_layers = 6;
  c.num_heads = 12;
  c.intermediate_size = 1536;
  c.vocab_size = 30522;
  c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  c.max_seq_length = 256;
  c.normalize = true;
  return c;
}

TEST(ModelConfig, JsonRoundTrip) {
  ModelConfig c = minilm();
  c.pooling = Pooling::Cls;
  c.dtype = DType::F16;
  c.layer_norm_eps = 1e-7;
  ModelConfig back = ModelConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.pooling, Pooling::Cls);
  EXPECT_EQ(back.dtype, DType::F16);
  EXPECT_DOUBLE_EQ(back.layer_norm_eps, 1e-7);
  EXPECT_EQ(back.head_dim(), 32);
}

TEST(ModelConfig, RejectsInconsistentValues) {
  auto expect_error = [](ModelConfig c, const char* fragment) {
    try {
      c.validate();
      FAIL() << "accepted a config that should fail with: " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  ModelConfig c = minilm();
  c.num_heads = 5;
  expect_error(c, "not divisible");
  c = minilm();
  c.max_seq_length = 1000;
  expect_error(c, "exceeds max_position_embeddings");
  c = minilm();
  c.hidden_size = 0;
  expect_error(c, "hidden_size must be positive");
  c = minilm();
  c.hidden_act = "relu";
  expect_error(c, "hidden_act");
  c = minilm();
  c.architecture = "gpt2";
  expect_error(c, "architecture");
}

TEST(ModelConfig, FromJsonNamesTheBadField) {
  EXPECT_THROW(ModelConfig::from_json("not json"), Error);
  EXPECT_THROW(ModelConfig::from_json("[1,2]"), Error);
  std::string json = minilm().to_json();
  json.replace(json.find("\"hidden_size\":384"), 17, "\"hidden_size\":\"384\"");
  try {
    ModelConfig::from_json(json);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'hidden_size' must be an integer"), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, NamesParse) {
  for (Pooling p : {Pooling::Mean, Pooling::Cls, Pooling::Max, Pooling::MeanSqrtLen, Pooling::WeightedMean,
                    Pooling::LastToken})
    EXPECT_EQ(parse_pooling(pooling_name(p)), p);
  EXPECT_THROW(parse_pooling("median"), Error);
  EXPECT_EQ(parse_dtype("float16"), DType::F16);
  EXPECT_EQ(parse_dtype("f32"), DType::F32);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_name(DType::I64), "i64");
  EXPECT_EQ(parse_dtype("int8"), DType::I8);
  EXPECT_EQ(dtype_name(DType::I8), "int8");
  EXPECT_EQ(dtype_size(DType::I8), 1u);
  EXPECT_THROW(parse_dtype("int4"), Error);
}

TEST(BertLayout, ExpectedTensorsFollowTheConfig) {
  const ModelConfig c = minilm();
  const auto expected = bert::expected_tensors(c);
  EXPECT_EQ(expected.size(), 5u + 16u * 6u);
  EXPECT_EQ(expected[0].name, "embeddings.word_embeddings.weight");
  EXPECT_EQ(expected[0].shape, (std::vector<int64_t>{30522, 384}));
  EXPECT_EQ(bert::layer_tensor(5, "output.dense.weight"), "encoder.layer.5.output.dense.weight");
  EXPECT_EQ(bert::canonical_tensor_name("bert.pooler.dense.bias"), "pooler.dense.bias");
  EXPECT_EQ(bert::canonical_tensor_name("cls.predictions.bias"), "cls.predictions.bias");
}

// An int8 matrix needs its f32 scale tensor, one value per row.
TEST(BertLayout, Int8MatricesNeedTheirScales) {
  ModelConfig c = minilm();
  c.num_layers = 1;
  c.vocab_size = 8;
  c.max_position_embeddings = 256;
  std::vector<TensorView> tensors;
  for (const auto& e : bert::expected_tensors(c)) tensors.push_back({e.name, DType::F32, e.shape, nullptr});
  EXPECT_NO_THROW(bert::check_tensors(c, tensors));
  tensors[0].dtype = DType::I8;  // the word table
  auto error = [&] {
    try {
      bert::check_tensors(c, tensors);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error().find("has no scale tensor 'embeddings.word_embeddings.weight_scale'"), std::string::npos) << error();
  tensors.push_back({"embeddings.word_embeddings.weight_scale", DType::F32, {7}, nullptr});
  EXPECT_NE(error().find("must be f32 of shape [8]"), std::string::npos) << error();
  tensors.back().shape = {8};
  tensors.back().dtype = DType::F16;
  EXPECT_NE(error().find("must be f32 of shape [8]"), std::string::npos) << error();
  tensors.back().dtype = DType::F32;
  EXPECT_NO_THROW(bert::check_tensors(c, tensors));
  tensors[3].dtype = DType::I8;  // a 1-D LayerNorm tensor cannot be int8
  EXPECT_NE(error().find("unsupported dtype int8"), std::string::npos) << error();
}

}  // namespace
}  // namespace arrowembed

#pragma once
// The architecture and sentence-embedding settings of a model: what the
// engine needs to run it, independent of where the weights come from.
#include <cstdint>
#include <string>
#include <string_view>

#include "arrowembed/format/dtype.h"

namespace arrowembed {

// sentence-transformers' pooling modes (1_Pooling/config.json).
enum class Pooling : uint8_t { Mean, Cls, Max, MeanSqrtLen, WeightedMean, LastToken };

std::string_view pooling_name(Pooling pooling);
Pooling parse_pooling(std::string_view name);  // throws Error

struct ModelConfig {
  std::string architecture = "bert";  // model family; only "bert" for now
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  // exact erf GELU, as BERT was trained

  // sentence-transformers settings
  int64_t max_seq_length = 0;  // tokens, including [CLS] and [SEP]
  Pooling pooling = Pooling::Mean;
  bool normalize = false;  // L2-normalise the pooled vector

  // Element type of the weight matrices in the file (1-D tensors such as
  // biases and LayerNorm parameters are always f32).
  DType dtype = DType::F32;

  int64_t head_dim() const { return num_heads ? hidden_size / num_heads : 0; }

  // Throws Error naming the first inconsistent field.
  void validate() const;

  // Compact JSON object with the field names above (used in the model file
  // metadata and by `arrowembed info`).
  std::string to_json() const;
  static ModelConfig from_json(std::string_view json);  // throws Error
};

}  // namespace arrowembed

#pragma once
// The tensor names and shapes a BERT encoder of a given config has, as
// Hugging Face's BertModel names them (with any "bert." prefix removed).
// The loaders check files against this; the engine looks weights up by it.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "arrowembed/format/model_config.h"
#include "arrowembed/format/tensor.h"

namespace arrowembed::bert {

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor the encoder needs (the pooler is optional and not listed).
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

// "encoder.layer.<layer>.<suffix>"
std::string layer_tensor(int64_t layer, const char* suffix);

// Throws Error naming the first missing tensor or wrong shape.
void check_tensors(const ModelConfig& config, std::span<const TensorView> tensors);

// Hugging Face checkpoints of BertFor* heads prefix the encoder with "bert.".
std::string canonical_tensor_name(const std::string& name);

}  // namespace arrowembed::bert

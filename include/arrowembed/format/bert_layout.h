#pragma once
// The tensor names and shapes a BERT encoder of a given config has, as
// Hugging Face's BertModel names them (with any "bert." prefix removed).
// The loaders check files against this; the engine looks weights up by it.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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

// In an int8 model file, the tensors that stay f16 although they are
// matrices: the position and token-type tables. They are small (0.4 MB for
// MiniLM), and one int8 scale per row of the 2-row token-type table would
// be an 8-byte tensor that shifts every later tensor off its 64-byte
// boundary (Arrow pads IPC buffers to 8 bytes only).
bool stays_f16_in_int8_file(std::string_view tensor_name);

// Hugging Face checkpoints of BertFor* heads prefix the encoder with "bert.".
std::string canonical_tensor_name(const std::string& name);

}  // namespace arrowembed::bert

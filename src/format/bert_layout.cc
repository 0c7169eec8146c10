#include "arrowembed/format/bert_layout.h"

#include <map>

#include "arrowembed/error.h"
#include "arrowembed/format/int8.h"

namespace arrowembed::bert {

std::string layer_tensor(int64_t layer, const char* suffix) {
  return "encoder.layer." + std::to_string(layer) + "." + suffix;
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const int64_t h = c.hidden_size, i = c.intermediate_size;
  std::vector<ExpectedTensor> out = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, h}},
      {"embeddings.position_embeddings.weight", {c.max_position_embeddings, h}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}},
      {"embeddings.LayerNorm.weight", {h}},
      {"embeddings.LayerNorm.bias", {h}},
  };
  // Linear weights are [out_features, in_features], as PyTorch stores them.
  const std::pair<const char*, std::vector<int64_t>> per_layer[] = {
      {"attention.self.query.weight", {h, h}},   {"attention.self.query.bias", {h}},
      {"attention.self.key.weight", {h, h}},     {"attention.self.key.bias", {h}},
      {"attention.self.value.weight", {h, h}},   {"attention.self.value.bias", {h}},
      {"attention.output.dense.weight", {h, h}}, {"attention.output.dense.bias", {h}},
      {"attention.output.LayerNorm.weight", {h}}, {"attention.output.LayerNorm.bias", {h}},
      {"intermediate.dense.weight", {i, h}},     {"intermediate.dense.bias", {i}},
      {"output.dense.weight", {h, i}},           {"output.dense.bias", {h}},
      {"output.LayerNorm.weight", {h}},          {"output.LayerNorm.bias", {h}},
  };
  for (int64_t layer = 0; layer < c.num_layers; ++layer)
    for (const auto& [suffix, shape] : per_layer) out.push_back({layer_tensor(layer, suffix), shape});
  return out;
}

namespace {
std::string shape_string(const std::vector<int64_t>& shape) {
  TensorView t;
  t.shape = shape;
  return t.shape_string();
}
}  // namespace

void check_tensors(const ModelConfig& config, std::span<const TensorView> tensors) {
  std::map<std::string_view, const TensorView*> by_name;
  for (const auto& t : tensors) by_name[t.name] = &t;
  for (const auto& e : expected_tensors(config)) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) throw Error("model is missing tensor '" + e.name + "'");
    const TensorView& t = *it->second;
    if (t.shape != e.shape)
      throw Error("tensor '" + e.name + "' has shape " + t.shape_string() + " but the config implies " +
                  shape_string(e.shape));
    if (!is_stored_weight_dtype(t.dtype) || (t.dtype == DType::I8 && t.shape.size() != 2))
      throw Error("tensor '" + e.name + "' has unsupported dtype " + std::string(dtype_name(t.dtype)));
    if (t.dtype == DType::I8) {
      auto scale = by_name.find(int8::scale_name(e.name));
      int8::check_scale(t, scale == by_name.end() ? nullptr : scale->second);
    }
  }
}

bool stays_f16_in_int8_file(std::string_view tensor_name) {
  return tensor_name == "embeddings.position_embeddings.weight" || tensor_name == "embeddings.token_type_embeddings.weight";
}

std::string canonical_tensor_name(const std::string& name) {
  static constexpr std::string_view kPrefix = "bert.";
  return name.starts_with(kPrefix) ? name.substr(kPrefix.size()) : name;
}

}  // namespace arrowembed::bert

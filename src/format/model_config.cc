#include "arrowembed/format/model_config.h"

#include <string>

#include "arrowembed/error.h"
#include "format/json_util.h"

namespace arrowembed {

namespace {
constexpr std::pair<Pooling, std::string_view> kPoolingNames[] = {
    {Pooling::Mean, "mean"},
    {Pooling::Cls, "cls"},
    {Pooling::Max, "max"},
    {Pooling::MeanSqrtLen, "mean_sqrt_len"},
    {Pooling::WeightedMean, "weighted_mean"},
    {Pooling::LastToken, "last_token"},
};
}  // namespace

std::string_view pooling_name(Pooling pooling) {
  for (const auto& [p, name] : kPoolingNames)
    if (p == pooling) return name;
  return "?";
}

Pooling parse_pooling(std::string_view name) {
  for (const auto& [p, n] : kPoolingNames)
    if (n == name) return p;
  throw Error("unknown pooling mode '" + std::string(name) +
              "' (expected mean, cls, max, mean_sqrt_len, weighted_mean or last_token)");
}

void ModelConfig::validate() const {
  auto fail = [](const std::string& msg) { throw Error("invalid model config: " + msg); };
  if (architecture != "bert") fail("architecture '" + architecture + "' is not supported (only bert)");
  auto positive = [&](int64_t v, const char* name) {
    if (v <= 0) fail(std::string(name) + " must be positive, got " + std::to_string(v));
  };
  positive(hidden_size, "hidden_size");
  positive(num_layers, "num_layers");
  positive(num_heads, "num_heads");
  positive(intermediate_size, "intermediate_size");
  positive(vocab_size, "vocab_size");
  positive(max_position_embeddings, "max_position_embeddings");
  positive(type_vocab_size, "type_vocab_size");
  positive(max_seq_length, "max_seq_length");
  if (hidden_size % num_heads != 0)
    fail("hidden_size " + std::to_string(hidden_size) + " is not divisible by num_heads " +
         std::to_string(num_heads));
  if (max_seq_length > max_position_embeddings)
    fail("max_seq_length " + std::to_string(max_seq_length) + " exceeds max_position_embeddings " +
         std::to_string(max_position_embeddings));
  if (!(layer_norm_eps > 0)) fail("layer_norm_eps must be positive");
  if (hidden_act != "gelu") fail("hidden_act '" + hidden_act + "' is not supported (only gelu)");
  if (!is_stored_weight_dtype(dtype)) fail("dtype must be f32, f16 or int8");
}

std::string ModelConfig::to_json() const {
  nlohmann::ordered_json j;
  j["architecture"] = architecture;
  j["hidden_size"] = hidden_size;
  j["num_layers"] = num_layers;
  j["num_heads"] = num_heads;
  j["intermediate_size"] = intermediate_size;
  j["vocab_size"] = vocab_size;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["layer_norm_eps"] = layer_norm_eps;
  j["hidden_act"] = hidden_act;
  j["max_seq_length"] = max_seq_length;
  j["pooling"] = pooling_name(pooling);
  j["normalize"] = normalize;
  j["dtype"] = dtype_name(dtype);
  return j.dump();
}

ModelConfig ModelConfig::from_json(std::string_view json) {
  const std::string what = "model config";
  auto j = json_util::parse(json, what);
  if (!j.is_object()) throw Error(what + ": not a JSON object");
  using json_util::required;
  ModelConfig c;
  c.architecture = required<std::string>(j, "architecture", what);
  c.hidden_size = required<int64_t>(j, "hidden_size", what);
  c.num_layers = required<int64_t>(j, "num_layers", what);
  c.num_heads = required<int64_t>(j, "num_heads", what);
  c.intermediate_size = required<int64_t>(j, "intermediate_size", what);
  c.vocab_size = required<int64_t>(j, "vocab_size", what);
  c.max_position_embeddings = required<int64_t>(j, "max_position_embeddings", what);
  c.type_vocab_size = required<int64_t>(j, "type_vocab_size", what);
  c.layer_norm_eps = required<double>(j, "layer_norm_eps", what);
  c.hidden_act = required<std::string>(j, "hidden_act", what);
  c.max_seq_length = required<int64_t>(j, "max_seq_length", what);
  c.pooling = parse_pooling(required<std::string>(j, "pooling", what));
  c.normalize = required<bool>(j, "normalize", what);
  c.dtype = parse_dtype(required<std::string>(j, "dtype", what));
  c.validate();
  return c;
}

}  // namespace arrowembed

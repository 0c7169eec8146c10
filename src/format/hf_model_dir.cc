#include "format/hf_model_dir.h"

#include <string>
#include <vector>

#include "arrowembed/error.h"
#include "arrowembed/format/bert_layout.h"
#include "format/half.h"
#include "format/json_util.h"
#include "format/model_state.h"
#include "format/safetensors.h"

namespace arrowembed {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using json_util::optional;
using json_util::required;

namespace {

void read_architecture(const fs::path& dir, ModelConfig& c) {
  const fs::path path = dir / "config.json";
  if (!fs::exists(path)) throw Error(dir.string() + ": not a Hugging Face model directory (no config.json)");
  const json j = json_util::parse_file(path);
  const std::string what = path.string();
  const std::string model_type = required<std::string>(j, "model_type", what);
  if (model_type != "bert")
    throw Error(what + ": model_type '" + model_type + "' is not supported (only bert encoders)");
  const std::string position_type = optional<std::string>(j, "position_embedding_type", "absolute", what);
  if (position_type != "absolute")
    throw Error(what + ": position_embedding_type '" + position_type + "' is not supported (only absolute)");
  c.architecture = "bert";
  c.hidden_size = required<int64_t>(j, "hidden_size", what);
  c.num_layers = required<int64_t>(j, "num_hidden_layers", what);
  c.num_heads = required<int64_t>(j, "num_attention_heads", what);
  c.intermediate_size = required<int64_t>(j, "intermediate_size", what);
  c.vocab_size = required<int64_t>(j, "vocab_size", what);
  c.max_position_embeddings = required<int64_t>(j, "max_position_embeddings", what);
  c.type_vocab_size = optional<int64_t>(j, "type_vocab_size", 2, what);
  c.layer_norm_eps = optional<double>(j, "layer_norm_eps", 1e-12, what);
  c.hidden_act = optional<std::string>(j, "hidden_act", "gelu", what);
}

Pooling read_pooling_config(const fs::path& path) {
  const json j = json_util::parse_file(path);
  const std::string what = path.string();
  const std::pair<const char*, Pooling> modes[] = {
      {"pooling_mode_cls_token", Pooling::Cls},
      {"pooling_mode_mean_tokens", Pooling::Mean},
      {"pooling_mode_max_tokens", Pooling::Max},
      {"pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen},
      {"pooling_mode_weightedmean_tokens", Pooling::WeightedMean},
      {"pooling_mode_lasttoken", Pooling::LastToken},
  };
  std::vector<Pooling> chosen;
  for (const auto& [key, mode] : modes)
    if (optional<bool>(j, key, false, what)) chosen.push_back(mode);
  if (chosen.size() != 1)
    throw Error(what + ": exactly one pooling mode must be enabled, found " + std::to_string(chosen.size()));
  return chosen.front();
}

// sentence-transformers' module pipeline: Transformer -> Pooling -> [Normalize].
// A plain Hugging Face model gets mean pooling, as sentence-transformers
// gives it when it wraps one.
void read_sentence_transformers(const fs::path& dir, ModelConfig& c) {
  c.pooling = Pooling::Mean;
  c.normalize = false;
  const fs::path modules_path = dir / "modules.json";
  if (fs::exists(modules_path)) {
    const json modules = json_util::parse_file(modules_path);
    if (!modules.is_array()) throw Error(modules_path.string() + ": expected a JSON array of modules");
    bool has_pooling = false;
    for (const auto& m : modules) {
      const std::string type = required<std::string>(m, "type", modules_path.string());
      const std::string sub = optional<std::string>(m, "path", "", modules_path.string());
      if (type == "sentence_transformers.models.Transformer") continue;
      if (type == "sentence_transformers.models.Pooling") {
        c.pooling = read_pooling_config(dir / sub / "config.json");
        has_pooling = true;
      } else if (type == "sentence_transformers.models.Normalize") {
        c.normalize = true;
      } else {
        throw Error(modules_path.string() + ": sentence-transformers module '" + type + "' is not supported");
      }
    }
    if (!has_pooling) throw Error(modules_path.string() + ": no Pooling module");
  }

  c.max_seq_length = 0;
  const fs::path sbert = dir / "sentence_bert_config.json";
  if (fs::exists(sbert))
    c.max_seq_length = optional<int64_t>(json_util::parse_file(sbert), "max_seq_length", 0, sbert.string());
  const fs::path tok_config = dir / "tokenizer_config.json";
  if (c.max_seq_length <= 0 && fs::exists(tok_config)) {
    const json j = json_util::parse_file(tok_config);
    auto it = j.find("model_max_length");
    // Hugging Face writes a huge sentinel when there is no limit.
    if (it != j.end() && it->is_number_integer() && it->get<int64_t>() <= c.max_position_embeddings)
      c.max_seq_length = it->get<int64_t>();
  }
  if (c.max_seq_length <= 0) c.max_seq_length = c.max_position_embeddings;
}

std::shared_ptr<const std::string> read_tokenizer(const fs::path& dir) {
  const fs::path path = dir / "tokenizer.json";
  if (!fs::exists(path)) {
    throw Error(dir.string() + ": no tokenizer.json" +
                (fs::exists(dir / "vocab.txt")
                     ? std::string(" (vocab.txt alone is not supported yet: save the model with a fast tokenizer)")
                     : std::string()));
  }
  // Kept byte for byte (so its digest still identifies it); parsed only to
  // reject a broken file here rather than when the model is first used.
  auto text = std::make_shared<const std::string>(json_util::read_text_file(path));
  json_util::parse_unordered(*text, path.string());
  return text;
}

// Converts bf16/f64 tensors to owned f32 copies; drops integer buffers
// (BERT's position_ids is arange(max_position), not a weight).
void add_tensors(SafetensorsFile& st, ModelFile::State& state) {
  state.owners.push_back(st.mapping);
  for (auto& t : st.tensors) {
    t.name = bert::canonical_tensor_name(t.name);
    if (t.dtype == DType::I64) {
      if (t.name.ends_with("position_ids")) continue;
      throw Error("tensor '" + t.name + "' has integer type i64, which a weight cannot have");
    }
    if (t.dtype == DType::BF16 || t.dtype == DType::F64) {
      auto owned = make_owned_buffer<float>(static_cast<size_t>(t.numel()));
      if (t.dtype == DType::BF16)
        half::bf16_to_f32(static_cast<const uint16_t*>(t.data), owned->data(), owned->size());
      else
        half::f64_to_f32(static_cast<const double*>(t.data), owned->data(), owned->size());
      t.dtype = DType::F32;
      t.data = owned->data();
      state.owners.push_back(owned);
    }
    state.tensors.push_back(std::move(t));
  }
}

}  // namespace

std::shared_ptr<ModelFile::State> read_hf_model_dir(const fs::path& dir) {
  auto state = std::make_shared<ModelFile::State>();
  state->kind = ModelSourceKind::HuggingFaceDir;
  state->path = dir;
  read_architecture(dir, state->config);
  read_sentence_transformers(dir, state->config);
  auto tokenizer = read_tokenizer(dir);
  state->tokenizer_json = *tokenizer;
  state->owners.push_back(tokenizer);

  const fs::path weights = dir / "model.safetensors";
  if (!fs::exists(weights)) {
    throw Error(dir.string() + ": no model.safetensors" +
                (fs::exists(dir / "pytorch_model.bin")
                     ? std::string(" (pytorch_model.bin is a pickle and is not read: save with safetensors)")
                     : std::string()));
  }
  SafetensorsFile st = read_safetensors(weights);
  add_tensors(st, *state);

  const TensorView* embeddings = nullptr;
  for (const auto& t : state->tensors)
    if (t.name == "embeddings.word_embeddings.weight") embeddings = &t;
  state->config.dtype = embeddings && embeddings->dtype == DType::F16 ? DType::F16 : DType::F32;

  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) state->file_bytes += entry.file_size();
  state->finish();
  return state;
}

}  // namespace arrowembed

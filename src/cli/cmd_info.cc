// arrowembed info FILE [--verify]: the model's config and file facts as one
// JSON object.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "arrowembed/format/int8.h"
#include "arrowembed/format/model_file.h"
#include "cli/commands.h"

namespace arrowembed::cli {

namespace {

std::string_view source_name(ModelSourceKind kind) {
  switch (kind) {
    case ModelSourceKind::ArrowIpc: return "arrow";
    case ModelSourceKind::Parquet: return "parquet";
    case ModelSourceKind::HuggingFaceDir: return "huggingface";
  }
  return "?";
}

// The role of a tensor in the model, for `tensor_dtypes`.
std::string tensor_group(const ModelFile& model, const TensorView& t) {
  const std::string_view name = t.name;
  if (int8::is_scale_of_int8_matrix(model, t)) return "int8_scales";
  if (name.find("LayerNorm") != std::string_view::npos) return "layer_norm";
  if (name.ends_with(".bias")) return "bias";
  if (name.starts_with("embeddings.")) return "embedding_tables";
  if (name.starts_with("encoder.") && t.shape.size() == 2) return "linear";
  return "other";
}

// {group: {dtype: tensors}}: e.g. an int8 file's linear weights are int8,
// its position and token-type tables f16.
nlohmann::ordered_json tensor_dtypes(const ModelFile& model) {
  std::map<std::string, std::map<std::string, int>> groups;
  for (const auto& t : model.tensors()) ++groups[tensor_group(model, t)][std::string(dtype_name(t.dtype))];
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [group, dtypes] : groups) out[group] = dtypes;
  return out;
}

void run_info(const std::string& path, bool verify) {
  const auto start = std::chrono::steady_clock::now();
  ModelFile model = ModelFile::open(path);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  auto info = nlohmann::ordered_json::parse(model.config().to_json());
  int64_t parameters = 0;
  for (const auto& t : model.tensors()) parameters += t.numel();
  info["source"] = source_name(model.source_kind());
  info["format_version"] = model.format_version();
  info["tensors"] = model.tensors().size();
  info["tensor_dtypes"] = tensor_dtypes(model);
  info["parameters"] = parameters;
  info["file_bytes"] = model.file_bytes();
  info["aligned_64"] = model.aligned_64();
  info["load_ms"] = load_ms;
  if (verify) {
    model.verify_checksums();
    info["checksums"] = "ok";
  }
  std::printf("%s\n", info.dump().c_str());
}

}  // namespace

void register_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto verify = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("info", "Print a model's config and file facts as JSON");
  cmd->add_option("model", *path, "Model file (.arrow, .parquet) or Hugging Face model directory")->required();
  cmd->add_flag("--verify", *verify, "Also check every tensor's checksum (reads the whole file)");
  cmd->callback([path, verify] { run_info(*path, *verify); });
}

}  // namespace arrowembed::cli

// arrowembed info FILE [--verify]: the model's config and file facts as one
// JSON object.
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

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

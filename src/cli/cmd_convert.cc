// arrowembed convert SRC -o FILE.arrow [--dtype f32|f16|int8] [--parquet FILE.parquet]
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "arrowembed/format/model_file.h"
#include "arrowembed/format/model_writer.h"
#include "cli/commands.h"

namespace arrowembed::cli {

namespace {

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string dtype;
  std::string parquet;
  int zstd_level = 9;
};

// Writes one file and proves it by reading it back with its checksums.
nlohmann::ordered_json write_and_check(const ModelFile& model, const std::string& path,
                                       const WriteOptions& options) {
  write_model(model, path, options);
  ModelFile written = ModelFile::open(path);
  written.verify_checksums();
  return {{"path", path}, {"bytes", written.file_bytes()}, {"dtype", dtype_name(written.config().dtype)}};
}

void run_convert(const ConvertArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  ModelFile model = ModelFile::open(args.input);
  WriteOptions options;
  if (!args.dtype.empty()) options.dtype = parse_dtype(args.dtype);
  options.zstd_level = args.zstd_level;

  nlohmann::ordered_json report;
  report["input"] = args.input;
  report["tensors"] = model.tensors().size();
  options.kind = model_file_kind_for(args.output);
  report["output"] = write_and_check(model, args.output, options);
  if (!args.parquet.empty()) {
    options.kind = ModelFileKind::Parquet;
    report["parquet"] = write_and_check(model, args.parquet, options);
  }
  report["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s\n", report.dump().c_str());
}

}  // namespace

void register_convert(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  auto* cmd = app.add_subcommand(
      "convert", "Convert a Hugging Face model directory (or an arrowembed .parquet/.arrow file) to an arrowembed model file");
  cmd->add_option("input", args->input, "Hugging Face model directory, or .parquet/.arrow model file")->required();
  cmd->add_option("-o,--output", args->output, "Output model file (.arrow: Arrow IPC; .parquet: Parquet)")
      ->required();
  cmd->add_option("--dtype", args->dtype, "Weight matrix type: f32, f16 or int8 (per-row scales; default: the source's)")
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  cmd->add_option("--parquet", args->parquet, "Also write the compressed Parquet (zstd) form here");
  cmd->add_option("--zstd-level", args->zstd_level, "zstd level for Parquet output")
      ->check(CLI::Range(1, 22));
  cmd->callback([args] { run_convert(*args); });
}

}  // namespace arrowembed::cli

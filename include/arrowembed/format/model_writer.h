#pragma once
// Writes a model (from any source ModelFile::open reads) as an arrowembed
// model file: Arrow IPC for running, Parquet (zstd) for distribution.
#include <filesystem>
#include <optional>

#include "arrowembed/format/model_file.h"

namespace arrowembed {

enum class ModelFileKind : uint8_t { ArrowIpc, Parquet };

struct WriteOptions {
  // Element type of the weight matrices; 1-D tensors stay f32. Empty keeps
  // the source's type (f32 for bf16/f64 sources).
  std::optional<DType> dtype;
  ModelFileKind kind = ModelFileKind::ArrowIpc;
  int zstd_level = 9;  // Parquet only
};

// Writes atomically (temporary file + rename); throws Error.
void write_model(const ModelFile& model, const std::filesystem::path& out,
                 const WriteOptions& options);

// Picks the kind from the extension: .parquet -> Parquet, anything else IPC.
ModelFileKind model_file_kind_for(const std::filesystem::path& path);

}  // namespace arrowembed

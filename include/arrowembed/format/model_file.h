#pragma once
// A model as stored: its config, its tokenizer (Hugging Face tokenizer.json)
// and its named tensors.
//
// ModelFile::open reads any of the three forms a model comes in:
//  - an arrowembed .arrow file (Arrow IPC): memory-mapped, zero copies, the
//    tensors point into the mapping (the form the engine runs from);
//  - an arrowembed .parquet file (the compressed distribution form): decoded
//    into memory;
//  - a Hugging Face model directory (config.json, model.safetensors,
//    tokenizer.json, sentence-transformers files): safetensors is mapped.
// Every form is validated the same way: tensor names and shapes must be
// exactly what the config describes.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "arrowembed/format/model_config.h"
#include "arrowembed/format/tensor.h"

namespace arrowembed {

enum class ModelSourceKind : uint8_t { ArrowIpc, Parquet, HuggingFaceDir };

class ModelFile {
 public:
  // Throws Error with one clear line when the path is missing, truncated,
  // corrupted, of a foreign format, of a newer format version, or when its
  // tensors disagree with its config.
  static ModelFile open(const std::filesystem::path& path);

  const ModelConfig& config() const;
  std::string_view tokenizer_json() const;
  std::span<const TensorView> tensors() const;
  const TensorView* find(std::string_view name) const;
  const TensorView& tensor(std::string_view name) const;  // throws Error if absent

  ModelSourceKind source_kind() const;
  const std::filesystem::path& path() const;
  uint64_t file_bytes() const;  // bytes on disk (sum of files for a directory)
  int format_version() const;   // 0 for a Hugging Face directory
  // True when every tensor starts on a 64-byte boundary (true for .arrow
  // files written by arrowembed; SIMD loads and GEMM packing rely on it).
  bool aligned_64() const;

  // Recomputes each tensor's stored XXH3 checksum (reads every byte, so it
  // is not part of open()); throws Error naming the first damaged tensor.
  // Sources without checksums (Hugging Face directories) pass trivially.
  void verify_checksums() const;

  struct State;  // defined in src/format; holds mappings and Arrow objects

 private:
  explicit ModelFile(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

}  // namespace arrowembed

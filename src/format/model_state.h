#pragma once
// What a ModelFile holds, shared by the readers in src/format (Arrow IPC,
// Parquet, Hugging Face directory) that build it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arrowembed/format/model_file.h"

namespace arrowembed {

struct ModelFile::State {
  ModelConfig config;
  std::string_view tokenizer_json;  // points into `owners`, like the tensors
  std::vector<TensorView> tensors;
  // XXH3-64 of each tensor's bytes as stored, parallel to `tensors`; empty
  // entries for sources that carry none.
  std::vector<std::optional<uint64_t>> checksums;
  std::map<std::string, size_t, std::less<>> index;  // name -> position in tensors

  ModelSourceKind kind = ModelSourceKind::ArrowIpc;
  std::filesystem::path path;
  uint64_t file_bytes = 0;
  int format_version = 0;
  bool aligned_64 = false;

  // Whatever the tensor pointers point into: memory maps, Arrow buffers,
  // decoded copies. Released together with the last ModelFile copy.
  std::vector<std::shared_ptr<const void>> owners;

  // Fills `index` and `aligned_64`, validates config and tensor layout.
  // Throws Error.
  void finish();
};

// Owns a decoded copy of tensor data (for conversions such as bf16 -> f32).
template <typename T>
std::shared_ptr<std::vector<T>> make_owned_buffer(size_t n) {
  return std::make_shared<std::vector<T>>(n);
}

}  // namespace arrowembed

#pragma once
// Reader for the safetensors format: an 8-byte little-endian header length
// N, N bytes of JSON ({name: {dtype, shape, data_offsets: [begin, end]}},
// plus an optional "__metadata__"), then the raw little-endian tensor bytes.
// The file is memory-mapped and the tensors point into the mapping.
#include <filesystem>
#include <memory>
#include <vector>

#include "arrowembed/format/tensor.h"

namespace arrowembed {

struct SafetensorsFile {
  std::shared_ptr<const void> mapping;  // keeps the tensor bytes alive
  std::vector<TensorView> tensors;      // in file order
  uint64_t file_bytes = 0;
};

// Throws Error for a missing, truncated or malformed file, an unknown dtype,
// or tensors whose byte ranges are out of bounds, overlap, or disagree with
// their shape.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

}  // namespace arrowembed

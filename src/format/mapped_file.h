#pragma once
// Read-only memory map of a whole file (Arrow's MemoryMappedFile, so every
// reader in src/format maps files the same way).
#include <arrow/buffer.h>
#include <arrow/io/file.h>

#include <filesystem>
#include <memory>

namespace arrowembed {

struct MappedFile {
  std::shared_ptr<arrow::io::MemoryMappedFile> file;
  std::shared_ptr<arrow::Buffer> bytes;  // the whole file, zero-copy
};

// Throws Error ("cannot open <path>: <reason>").
MappedFile map_file(const std::filesystem::path& path);

}  // namespace arrowembed

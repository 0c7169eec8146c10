#pragma once
// One segment: an Arrow IPC file of one record batch with the columns
//   id (utf8), text (utf8), <metadata columns> (utf8), embedding
//   (fixed_size_list<float32 | float16>[dimension])
// written once and never modified, read through a memory map (the
// embeddings are searched in place, zero copies).
#include <arrow/api.h>
#include <arrow/io/file.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arrowembed/collection/collection.h"

namespace arrowembed::collection {

// Writes rows [begin, end) of `docs` to `path` (created, fsync'd) with the
// embeddings stored as `dtype`. Columns missing from docs.metadata are not
// written. Throws Error naming the file.
void write_segment(const std::filesystem::path& path, const NewDocuments& docs, size_t begin, size_t end,
                   size_t dimension, DType dtype);

class Segment {
 public:
  // Maps and checks the file against what the manifest says of it (rows,
  // dimension, dtype). Throws Error naming the file.
  static std::shared_ptr<const Segment> open(const std::filesystem::path& path, size_t rows, size_t dimension,
                                             DType dtype);

  size_t rows() const { return rows_; }
  std::string_view id(size_t row) const { return ids_->GetView(static_cast<int64_t>(row)); }
  std::string_view text(size_t row) const { return texts_->GetView(static_cast<int64_t>(row)); }
  // (name, column) for each metadata column this segment has.
  const std::vector<std::pair<std::string, const arrow::StringArray*>>& metadata() const { return metadata_; }
  const arrow::StringArray* column(std::string_view name) const;  // null if absent; "id" and "text" too
  // rows x dimension values of the segment's dtype (float or uint16_t f16 bits).
  const void* embeddings() const { return embeddings_; }

 private:
  std::shared_ptr<arrow::io::MemoryMappedFile> file_;
  std::shared_ptr<arrow::RecordBatch> batch_;
  const arrow::StringArray* ids_ = nullptr;
  const arrow::StringArray* texts_ = nullptr;
  std::vector<std::pair<std::string, const arrow::StringArray*>> metadata_;
  const void* embeddings_ = nullptr;
  size_t rows_ = 0;
};

}  // namespace arrowembed::collection

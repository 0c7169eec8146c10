#pragma once
// Where `arrowembed embed` puts its vectors, chosen by the output name:
//  - "-" or *.jsonl: one {"embedding":[...]} line per input, in order
//    (floats printed shortest-exact, so they parse back bit for bit);
//  - *.arrow / *.parquet: a table with a fixed_size_list<float32> column
//    "embedding", after any columns carried over from a Parquet input (an
//    input column already named "embedding" is replaced).
#include <arrow/table.h>

#include <cstddef>
#include <memory>
#include <string>

namespace arrowembed::cli {

class EmbeddingWriter {
 public:
  virtual ~EmbeddingWriter() = default;
  virtual void write(const float* rows, size_t count) = 0;
  virtual void finish() = 0;  // throws Error
};

// `carried` (may be null) holds the input's other columns, one row per text.
std::unique_ptr<EmbeddingWriter> make_embedding_writer(const std::string& path, size_t dimension,
                                                       std::shared_ptr<arrow::Table> carried);

}  // namespace arrowembed::cli

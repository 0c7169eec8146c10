#pragma once
// The documents `index build` and `index add` read: ids, texts and metadata
// columns (as strings) from text lines, JSON lines or Parquet, and their
// embeddings made in batches with a progress line on a terminal.
#include <cstddef>
#include <string>

#include "arrowembed/collection/collection.h"
#include "arrowembed/engine/embedder.h"

namespace arrowembed::cli {

struct DocumentSource {
  std::string path = "-";
  std::string column = "text";    // text field (JSONL) or column (Parquet)
  std::string id_column = "id";   // id field/column; absent: ids are row numbers
  size_t first_id = 0;            // the row number of the first row, for generated ids
};

// ids, texts and metadata of NewDocuments; embeddings empty. Throws Error
// naming the file and line or row for a bad input, a missing text, a null
// or empty id.
collection::NewDocuments read_documents(const DocumentSource& source);

// Fills docs.embeddings, batch_size texts per embed call.
void embed_documents(const Embedder& embedder, collection::NewDocuments& docs, size_t batch_size);

}  // namespace arrowembed::cli

#include "interop/embedding_block.h"

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/c/bridge.h>
#include <arrow/memory_pool.h>
#include <arrow/type.h>

#include <algorithm>
#include <string>

#include "arrowembed/error.h"

namespace arrowembed::interop {

const float* EmbeddingBlock::data() const { return reinterpret_cast<const float*>(buffer_->data()); }

void EmbeddingBlock::export_arrow(ArrowSchema* schema, ArrowArray* array) const {
  const int64_t values = static_cast<int64_t>(rows_ * dimension_);
  auto floats = std::make_shared<arrow::FloatArray>(values, arrow::SliceBuffer(buffer_, 0, values * 4));
  auto type = arrow::fixed_size_list(arrow::field("item", arrow::float32(), /*nullable=*/false),
                                     static_cast<int32_t>(dimension_));
  auto list = std::make_shared<arrow::FixedSizeListArray>(type, static_cast<int64_t>(rows_), floats);
  if (auto status = arrow::ExportArray(*list, array, schema); !status.ok()) {
    throw Error("cannot export the embeddings to Arrow: " + status.message());
  }
}

size_t embed_into(const Embedder& embedder, std::span<const std::string_view> texts, const EmbedCall& call,
                  std::span<float> out, const std::function<void(size_t)>& progress) {
  const size_t full = embedder.dimension();
  if (call.dimensions > full) {
    throw Error("dimensions is " + std::to_string(call.dimensions) + " but the model's embeddings have " +
                std::to_string(full));
  }
  if (out.size() < texts.size() * full) throw Error("embed_into: the output is too small");
  EmbedOptions options;
  options.normalize = call.normalize;
  const size_t step = call.batch_size ? call.batch_size : std::max<size_t>(texts.size(), 1);
  for (size_t begin = 0; begin < texts.size(); begin += step) {
    const size_t end = std::min(texts.size(), begin + step);
    embedder.embed(texts.subspan(begin, end - begin), out.subspan(begin * full, (end - begin) * full), options);
    if (progress) progress(end);
  }
  if (call.dimensions == 0 || call.dimensions == full) return full;
  // What is kept is normalised as the whole would have been (OpenAI's
  // `dimensions`; sentence-transformers' truncate_dim with normalize_embeddings).
  truncate_rows(out, texts.size(), full, call.dimensions, call.normalize.value_or(embedder.config().normalize));
  return call.dimensions;
}

EmbeddingBlock embed_texts(const Embedder& embedder, std::span<const std::string_view> texts, const EmbedCall& call,
                           const std::function<void(size_t)>& progress) {
  EmbeddingBlock block;
  block.rows_ = texts.size();
  // Arrow's pool aligns to 64 bytes; at least one byte so that an empty
  // result still has a buffer to point at.
  const size_t floats = texts.size() * embedder.dimension();
  auto allocated = arrow::AllocateBuffer(static_cast<int64_t>(std::max<size_t>(floats * sizeof(float), 1)));
  if (!allocated.ok()) throw Error("cannot allocate the embeddings: " + allocated.status().message());
  block.buffer_ = std::shared_ptr<arrow::Buffer>(std::move(*allocated));
  std::span<float> out(reinterpret_cast<float*>(block.buffer_->mutable_data()), floats);
  block.dimension_ = embed_into(embedder, texts, call, out, progress);
  return block;
}

}  // namespace arrowembed::interop

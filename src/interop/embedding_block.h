#pragma once
// The engine's output for an in-process host: one 64-byte-aligned Arrow
// buffer the engine writes into and the host's array (NumPy, Arrow) then
// wraps without a copy.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "arrowembed/engine/embedder.h"

struct ArrowArray;
struct ArrowSchema;

namespace arrow {
class Buffer;
}

namespace arrowembed::interop {

struct EmbedCall {
  std::optional<bool> normalize;  // unset: the model's own setting
  size_t dimensions = 0;          // keep the first N (Matryoshka); 0: all
  // Texts per engine call; 0: all at once. Each call packs its texts into
  // forward passes itself, so this only sets how often `progress` runs.
  size_t batch_size = 0;
};

class EmbeddingBlock {
 public:
  size_t rows() const { return rows_; }
  size_t dimension() const { return dimension_; }
  const float* data() const;
  // The buffer holding rows() x dimension() floats, row-major, at its start
  // (it may be longer: truncation compacts rows in place).
  const std::shared_ptr<arrow::Buffer>& buffer() const { return buffer_; }

  // Exports the rows as fixed_size_list<item: float32 not null>[dimension()]
  // sharing this block's buffer; the caller releases both structs.
  void export_arrow(ArrowSchema* schema, ArrowArray* array) const;

 private:
  friend EmbeddingBlock embed_texts(const Embedder&, std::span<const std::string_view>, const EmbedCall&,
                                    const std::function<void(size_t)>&);
  std::shared_ptr<arrow::Buffer> buffer_;
  size_t rows_ = 0;
  size_t dimension_ = 0;
};

// Embeds `texts` into `out` (texts.size() x the model's dimension floats),
// then keeps call.dimensions of each row at the front; returns the
// dimension kept. See embed_texts for the rest.
size_t embed_into(const Embedder& embedder, std::span<const std::string_view> texts, const EmbedCall& call,
                  std::span<float> out, const std::function<void(size_t done)>& progress = {});

// Embeds `texts` into a new block, batch_size texts per engine call, calling
// progress(texts done) after each. Throws Error for invalid UTF-8 (naming
// the text), a text longer than the model takes, or dimensions larger than
// the model's.
EmbeddingBlock embed_texts(const Embedder& embedder, std::span<const std::string_view> texts, const EmbedCall& call,
                           const std::function<void(size_t done)>& progress = {});

}  // namespace arrowembed::interop

#pragma once
// Row-wise operations of the BERT encoder between its matrix products.
#include <cstddef>

#include "arrowembed/format/tensor.h"
#include "engine/packed_batch.h"

namespace arrowembed::engine {

class ThreadPool;

// x = LayerNorm(x + residual) * gamma + beta, per row of `width` floats
// (the residual add and the normalisation in one pass over the row).
void add_layer_norm(float* x, const float* residual, size_t rows, size_t width, const float* gamma,
                    const float* beta, float eps, ThreadPool& pool);

// One embedding table: f32, f16, or int8 with a scale per row.
struct EmbeddingTable {
  TensorView values;
  const float* row_scales = nullptr;  // int8 only
};
// The embedding layer: word + position + token-type (0) embeddings of each
// token, then LayerNorm.
struct EmbeddingTables {
  EmbeddingTable word, position, token_type;
  const float* ln_gamma = nullptr;
  const float* ln_beta = nullptr;
  float eps = 1e-12f;
};
void embed_tokens(const EmbeddingTables& tables, const PackedBatch& batch, size_t width, float* x,
                  ThreadPool& pool);

}  // namespace arrowembed::engine

#pragma once
// The BERT encoder (post-LayerNorm, exact GELU) over one packed batch,
// with its weights looked up by name in a ModelFile and used in place.
#include <vector>

#include "arrowembed/format/model_file.h"
#include "engine/layer_ops.h"
#include "engine/linear.h"
#include "engine/packed_batch.h"

namespace arrowembed::engine {

class ThreadPool;

// Activation buffers for one forward pass, grown to the largest batch and
// reused.
struct Workspace {
  std::vector<float> x, q, k, v, ctx, tmp, inter;
  Linear::Scratch linear;  // see Linear
  void reserve(size_t tokens, size_t hidden, size_t intermediate);
  size_t bytes() const;  // held now
};

class BertEncoder {
 public:
  // Throws Error for a model it cannot run, or BF16 on a CPU without it.
  explicit BertEncoder(const ModelFile& model, MatmulPrecision precision = MatmulPrecision::F32);

  // Runs the encoder; returns the final hidden states (num_tokens x
  // hidden_size) inside `ws`. Adds the work done to *flops.
  const float* forward(const PackedBatch& batch, Workspace& ws, ThreadPool& pool, double* flops) const;

  // Linear::pack() of every layer's products, spread over the pool.
  void pack_weights(ThreadPool& pool) const;
  // Bytes of packed weights the layers hold now (see Linear::packed_bytes).
  size_t packed_bytes() const;
  // The products' kernel (every layer's is the same: one dtype, one precision).
  std::string_view kernel() const { return layers_.front().query.kernel_name(); }

 private:
  struct Layer {
    Linear query, key, value, attention_output, intermediate, output;
    const float *attention_ln_gamma, *attention_ln_beta, *output_ln_gamma, *output_ln_beta;
  };
  ModelConfig config_;
  EmbeddingTables embeddings_;
  std::vector<Layer> layers_;
};

}  // namespace arrowembed::engine

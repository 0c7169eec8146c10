#pragma once
// Multi-head self-attention over packed sequences: each sequence attends
// only to its own tokens, so no padding or mask is needed.
#include <cstddef>

#include "engine/packed_batch.h"

namespace arrowembed::engine {

class ThreadPool;

// q, k, v, ctx: num_tokens x (num_heads * head_dim), row-major.
// ctx = softmax(q k^T / sqrt(head_dim)) v, per sequence and head.
void self_attention(const float* q, const float* k, const float* v, float* ctx, const PackedBatch& batch,
                    size_t num_heads, size_t head_dim, ThreadPool& pool);

// Multiply-adds x 2 of the attention products for this batch.
double attention_flops(const PackedBatch& batch, size_t hidden);

}  // namespace arrowembed::engine

#pragma once
// AVX2/FMA inner products for exact search (vector_kernels.cc is built
// with -mavx2 -mfma -mf16c; the engine checks the CPU before any use).
// f16 vectors are widened with format/half.h.
#include <cstddef>
#include <cstdint>

namespace arrowembed::collection {

// Rows per block of score_block: a block of f32 rows (24 KB at 384-d) stays
// in L1 while every query of a batch is scored against it, so a batch reads
// the collection from memory once.
inline constexpr size_t kBlockRows = 16;

// scores[q * rows + r] = <queries[q], block[r]> for q < num_queries, r < rows
// (rows <= kBlockRows). `block` is rows x dim floats, `queries` num_queries x dim.
void score_block(const float* block, size_t rows, size_t dim, const float* queries, size_t num_queries,
                 float* scores);

}  // namespace arrowembed::collection

#include "collection/vector_kernels.h"

#include <immintrin.h>

#include "engine/simd.h"

namespace arrowembed::collection {

namespace {

using engine::simd::hsum;

// R rows x Q queries: each loaded row chunk feeds Q multiply-adds and each
// query chunk R, so 4x2 issues 6 loads per 8 FMAs in 8 accumulators.
template <int R, int Q>
inline void tile(const float* rows, size_t dim, const float* queries, float* scores, size_t stride) {
  __m256 acc[R][Q];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) acc[r][q] = _mm256_setzero_ps();
  size_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    __m256 x[R];
    for (int r = 0; r < R; ++r) x[r] = _mm256_loadu_ps(rows + r * dim + d);
    for (int q = 0; q < Q; ++q) {
      const __m256 y = _mm256_loadu_ps(queries + q * dim + d);
      for (int r = 0; r < R; ++r) acc[r][q] = _mm256_fmadd_ps(x[r], y, acc[r][q]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) {
      float s = hsum(acc[r][q]);
      for (size_t t = d; t < dim; ++t) s += rows[r * dim + t] * queries[q * dim + t];
      scores[q * stride + r] = s;
    }
}

template <int Q>
inline void rows_of(const float* block, size_t rows, size_t dim, const float* queries, float* scores,
                    size_t stride) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) tile<4, Q>(block + r * dim, dim, queries, scores + r, stride);
  for (; r < rows; ++r) tile<1, Q>(block + r * dim, dim, queries, scores + r, stride);
}

}  // namespace

void score_block(const float* block, size_t rows, size_t dim, const float* queries, size_t num_queries,
                 float* scores) {
  size_t q = 0;
  for (; q + 2 <= num_queries; q += 2) rows_of<2>(block, rows, dim, queries + q * dim, scores + q * rows, rows);
  if (q < num_queries) rows_of<1>(block, rows, dim, queries + q * dim, scores + q * rows, rows);
}

}  // namespace arrowembed::collection

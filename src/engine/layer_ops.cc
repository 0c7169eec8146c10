#include "engine/layer_ops.h"

#include <cmath>
#include <cstring>

#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// Rows per parallel task: row operations are cheap, so group them.
constexpr size_t kRowsPerTask = 16;

// Normalises one row in place (two passes: mean, then variance about it,
// as PyTorch computes it, to keep float32 results close).
void layer_norm_row(float* row, size_t width, const float* gamma, const float* beta, float eps) {
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= width; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(row + i));
  float sum = simd::hsum(acc);
  for (; i < width; ++i) sum += row[i];
  const float mean = sum / static_cast<float>(width);
  const __m256 vmean = _mm256_set1_ps(mean);
  acc = _mm256_setzero_ps();
  for (i = 0; i + 8 <= width; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(row + i), vmean);
    acc = _mm256_fmadd_ps(d, d, acc);
  }
  float var = simd::hsum(acc);
  for (; i < width; ++i) var += (row[i] - mean) * (row[i] - mean);
  const float inv = 1.0f / std::sqrt(var / static_cast<float>(width) + eps);
  const __m256 vinv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= width; i += 8) {
    const __m256 n = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + i), vmean), vinv);
    _mm256_storeu_ps(row + i, _mm256_fmadd_ps(n, _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i)));
  }
  for (; i < width; ++i) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
}

void add_row(float* x, const float* y, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) x[i] += y[i];
}

// out += row `index` of an f32, f16 or int8 table.
void add_table_row(const EmbeddingTable& t, size_t index, size_t width, float* out) {
  const TensorView& table = t.values;
  if (table.dtype == DType::I8) {
    const int8_t* src = static_cast<const int8_t*>(table.data) + index * width;
    const __m256 scale = _mm256_set1_ps(t.row_scales[index]);
    size_t i = 0;
    for (; i + 8 <= width; i += 8) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i));
      const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
      _mm256_storeu_ps(out + i, _mm256_fmadd_ps(v, scale, _mm256_loadu_ps(out + i)));
    }
    for (; i < width; ++i) out[i] += static_cast<float>(src[i]) * t.row_scales[index];
    return;
  }
  if (table.dtype == DType::F32) {
    add_row(out, static_cast<const float*>(table.data) + index * width, width);
    return;
  }
  const uint16_t* src = static_cast<const uint16_t*>(table.data) + index * width;
  size_t i = 0;
  for (; i + 8 <= width; i += 8) {
    const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), v));
  }
  for (; i < width; ++i) out[i] += _cvtsh_ss(src[i]);
}

}  // namespace

void add_layer_norm(float* x, const float* residual, size_t rows, size_t width, const float* gamma,
                    const float* beta, float eps, ThreadPool& pool) {
  pool.parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, [&](size_t task) {
    const size_t end = std::min(rows, (task + 1) * kRowsPerTask);
    for (size_t r = task * kRowsPerTask; r < end; ++r) {
      float* row = x + r * width;
      add_row(row, residual + r * width, width);
      layer_norm_row(row, width, gamma, beta, eps);
    }
  });
}

void embed_tokens(const EmbeddingTables& t, const PackedBatch& batch, size_t width, float* x, ThreadPool& pool) {
  pool.parallel_for(batch.num_sequences(), [&](size_t s) {
    for (size_t pos = 0, r = batch.starts[s]; r < batch.starts[s + 1]; ++r, ++pos) {
      float* row = x + r * width;
      std::memset(row, 0, width * sizeof(float));
      add_table_row(t.word, static_cast<size_t>(batch.ids[r]), width, row);
      add_table_row(t.position, pos, width, row);
      add_table_row(t.token_type, 0, width, row);
      layer_norm_row(row, width, t.ln_gamma, t.ln_beta, t.eps);
    }
  });
}

}  // namespace arrowembed::engine

#include "engine/attention.h"

#include <cblas.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

void softmax_inplace(float* x, size_t n) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float max = simd::hmax(vmax);
  for (; i < n; ++i) max = std::max(max, x[i]);
  const __m256 m = _mm256_set1_ps(max);
  __m256 acc = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = simd::exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = simd::hsum(acc);
  if (i < n) {
    const size_t tail = n - i;
    // Padding lanes hold -inf so they contribute e^-inf = 0.
    alignas(32) float buf[8];
    for (size_t j = 0; j < 8; ++j) buf[j] = j < tail ? x[i + j] : -INFINITY;
    const __m256 e = simd::exp(_mm256_sub_ps(_mm256_load_ps(buf), m));
    simd::store_partial(x + i, e, tail);
    sum += simd::hsum(e);
  }
  const float inv = 1.0f / sum;
  for (i = 0; i < n; ++i) x[i] *= inv;
}

// Sequences at least this long run their two products per head on sgemm;
// shorter ones are cheaper as direct dot products.
constexpr size_t kGemmMinLength = 32;

void attention_direct(const float* q, const float* k, const float* v, float* ctx, size_t len, size_t hidden,
                      size_t head_dim, float scale, std::vector<float>& scores) {
  scores.resize(len);
  for (size_t i = 0; i < len; ++i) {
    const float* qi = q + i * hidden;
    for (size_t j = 0; j < len; ++j) scores[j] = scale * simd::dot(qi, k + j * hidden, head_dim);
    softmax_inplace(scores.data(), len);
    float* out = ctx + i * hidden;
    std::memset(out, 0, head_dim * sizeof(float));
    for (size_t j = 0; j < len; ++j) simd::axpy(scores[j], v + j * hidden, out, head_dim);
  }
}

void attention_gemm(const float* q, const float* k, const float* v, float* ctx, size_t len, size_t hidden,
                    size_t head_dim, float scale, std::vector<float>& scores) {
  scores.resize(len * len);
  const auto n = static_cast<blasint>(len), d = static_cast<blasint>(head_dim), ld = static_cast<blasint>(hidden);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, scale, q, ld, k, ld, 0.0f, scores.data(), n);
  for (size_t i = 0; i < len; ++i) softmax_inplace(scores.data() + i * len, len);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0f, scores.data(), n, v, ld, 0.0f, ctx, ld);
}

}  // namespace

void self_attention(const float* q, const float* k, const float* v, float* ctx, const PackedBatch& batch,
                    size_t num_heads, size_t head_dim, ThreadPool& pool) {
  const size_t hidden = num_heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  pool.parallel_for(batch.num_sequences() * num_heads, [&](size_t task) {
    const size_t s = task / num_heads, h = task % num_heads;
    const size_t offset = batch.starts[s] * hidden + h * head_dim, len = batch.length(s);
    thread_local std::vector<float> scores;
    auto* run = len >= kGemmMinLength ? attention_gemm : attention_direct;
    run(q + offset, k + offset, v + offset, ctx + offset, len, hidden, head_dim, scale, scores);
  });
}

double attention_flops(const PackedBatch& batch, size_t hidden) {
  double total = 0;
  for (size_t s = 0; s < batch.num_sequences(); ++s) {
    const double len = static_cast<double>(batch.length(s));
    total += 2.0 * 2.0 * len * len * static_cast<double>(hidden);
  }
  return total;
}

}  // namespace arrowembed::engine

#pragma once
// AVX2/FMA building blocks for the engine's kernels. Every file that
// includes this is compiled with -mavx2 -mfma -mf16c (src/engine/CMakeLists.txt);
// Embedder::load checks the CPU before any of it runs (cpu_features.h).
#include <immintrin.h>

#include <cstddef>

namespace arrowembed::engine::simd {

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

inline float hmax(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_max_ps(lo, hi);
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// e^x, Cephes-style range reduction and polynomial: ~1 ulp on [-87, 88],
// 0 below, +inf-safe clamp above.
inline __m256 exp(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365447504f);
  const __m256 below = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  y = _mm256_mul_ps(y, _mm256_castsi256_ps(n));
  return _mm256_andnot_ps(below, y);
}

// erf(x): for |x| >= 0.5, Abramowitz & Stegun 7.1.26 (formula error
// <= 1.5e-7); below 0.5 that form loses digits to cancellation (1 - p e^-x^2),
// so a Taylor series to x^13 (truncation error < 2e-8) takes over.
inline __m256 erf(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 x2 = _mm256_mul_ps(a, a);
  const __m256 e = exp(_mm256_sub_ps(_mm256_setzero_ps(), x2));
  const __m256 large = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
  // 2/sqrt(pi) * (a - a^3/3 + a^5/10 - a^7/42 + a^9/216 - a^11/1320 + a^13/9360)
  __m256 s = _mm256_set1_ps(1.0f / 9360);
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(-1.0f / 1320));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(1.0f / 216));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(-1.0f / 42));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(1.0f / 10));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(-1.0f / 3));
  s = _mm256_fmadd_ps(s, x2, _mm256_set1_ps(1.0f));
  const __m256 small = _mm256_mul_ps(_mm256_mul_ps(s, a), _mm256_set1_ps(1.12837916709551257f));
  const __m256 r = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.5f), _CMP_LT_OQ));
  return _mm256_or_ps(r, sign);
}

// GELU as BERT was trained: 0.5 x (1 + erf(x / sqrt(2))).
inline __m256 gelu(__m256 x) {
  const __m256 e = erf(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
}

// Lanes [0, n) of 8 set (n <= 8): the mask for maskload/maskstore.
inline __m256i lanes_below(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Loads `n` (< 8) floats, zero-filling the rest, so tails share the vector code.
inline __m256 load_partial(const float* p, size_t n) {
  alignas(32) float buf[8] = {};
  for (size_t i = 0; i < n; ++i) buf[i] = p[i];
  return _mm256_load_ps(buf);
}
inline void store_partial(float* p, __m256 v, size_t n) {
  alignas(32) float buf[8];
  _mm256_store_ps(buf, v);
  for (size_t i = 0; i < n; ++i) p[i] = buf[i];
}

inline float dot(const float* a, const float* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  if (i < n) acc1 = _mm256_fmadd_ps(load_partial(a + i, n - i), load_partial(b + i, n - i), acc1);
  return hsum(_mm256_add_ps(acc0, acc1));
}

// y += alpha * x
inline void axpy(float alpha, const float* x, float* y, size_t n) {
  const __m256 va = _mm256_set1_ps(alpha);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace arrowembed::engine::simd

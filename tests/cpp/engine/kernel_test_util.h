#pragma once
// Inputs and double-precision references shared by the engine's kernel
// tests (kernels_test, small_gemm_test, bf16_gemm_test).
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "format/half.h"

namespace arrowembed::engine::test {

// n normally distributed floats (mean 0, standard deviation `scale`).
inline std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Weights [n, k] as a Linear sees them: f32, or f16 bits plus their exact
// f32 values (what the kernel computes with once they are converted).
struct Weights {
  std::vector<float> values;
  std::vector<uint16_t> bits;
  Weights(size_t n, size_t k, uint32_t seed, bool f16) : values(random_vector(n * k, seed, 0.2f)) {
    if (f16) {
      bits.resize(values.size());
      half::f32_to_f16(values.data(), bits.data(), values.size());
      half::f16_to_f32(bits.data(), values.data(), values.size());
    }
  }
};

// y[m, n] = bias[n] + x[m, :] . w[n, :] (GELU after, if asked), in double,
// with x [*, k] and w [*, k]; *magnitude gets the sum of the terms' absolute
// values, which bounds what a float computation of the sum may be off by.
inline double linear_reference(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                               size_t k, size_t m, size_t n, bool gelu, double* magnitude) {
  double acc = b[n];
  *magnitude = std::fabs(b[n]);
  for (size_t i = 0; i < k; ++i) {
    acc += double(x[m * k + i]) * w[n * k + i];
    *magnitude += std::fabs(double(x[m * k + i]) * w[n * k + i]);
  }
  if (gelu) acc = 0.5 * acc * (1 + std::erf(acc / std::sqrt(2.0)));
  return acc;
}

}  // namespace arrowembed::engine::test

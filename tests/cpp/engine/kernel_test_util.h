#pragma once
// Inputs and double-precision references shared by the engine's kernel
// tests (kernels_test, small_gemm_test, bf16_gemm_test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
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

// What a product kernel's output buffer is filled with before the call:
// columns outside the kernel's range must still hold it afterwards.
constexpr float kUntouched = 12345.0f;

// Checks a product written into columns [n0, n1) of y (rows x ldy, filled
// with kUntouched before): each element inside within the tolerance of
// want(m, c, &tolerance), each element outside untouched. `what` names the
// case in a failure.
template <typename Want>
void expect_product(const std::vector<float>& y, size_t rows, size_t ldy, size_t n0, size_t n1, Want want,
                    const std::string& what) {
  for (size_t m = 0; m < rows; ++m)
    for (size_t c = 0; c < ldy; ++c) {
      if (c < n0 || c >= n1) {
        ASSERT_EQ(y[m * ldy + c], kUntouched) << what << ": wrote outside the range at " << m << "," << c;
        continue;
      }
      double tolerance;
      const double expected = want(m, c, &tolerance);
      ASSERT_NEAR(y[m * ldy + c], expected, tolerance) << what << " at " << m << "," << c;
    }
}

}  // namespace arrowembed::engine::test

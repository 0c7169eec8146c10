// The int8 product kernels (int8_gemm.h), Linear on int8 weights and the
// kernel seam (matrix_kernel.h). Each kernel's sums must be what double
// arithmetic gives on the quantized inputs (x ~ scale * q + min per row and
// group, w ~ wscale * q per column), up to the f32 epilogue, over shapes
// that exercise every tail: rows not a multiple of either kernel's row tile
// (6 VNNI, 4 AVX2), columns not a multiple of the 32-column panel or of the
// AVX2 kernel's 8-column quarter, K not a multiple of the 64-value group or
// of 4, and column sub-ranges. Both instruction sets run on this machine
// (the AVX2 kernel is plain AVX2 code; the VNNI one needs AVX512-VNNI) and
// must agree bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "arrowembed/error.h"
#include "arrowembed/format/int8.h"
#include "arrowembed/format/tensor.h"
#include "engine/int8_gemm.h"
#include "engine/kernel_test_util.h"
#include "engine/linear.h"
#include "engine/matrix_kernel.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {
namespace {

using test::random_vector;

// Weights quantized as `convert --dtype int8` stores them.
struct QuantizedWeights {
  std::vector<int8_t> q;
  std::vector<float> scales;
  QuantizedWeights(const std::vector<float>& w, size_t n, size_t k) : q(n * k), scales(n) {
    int8::quantize_rows(w.data(), n, k, q.data(), scales.data());
  }
  double value(size_t c, size_t kk, size_t k) const { return double(q[c * k + kk]) * scales[c]; }
};

// Rows of X quantized by the kernels' own int8_quantize_rows, in both forms.
struct QuantizedRows {
  size_t ld, groups;
  std::vector<uint8_t> q;
  std::vector<int16_t> q16;
  std::vector<float> scale, min;
  QuantizedRows(const std::vector<float>& x, size_t rows, size_t k)
      : ld(int8_padded_k(k)), groups(int8_groups(k)), q(rows * ld), q16(rows * ld), scale(rows * groups),
        min(rows * groups) {
    int8_quantize_rows(x.data(), rows, k, q.data(), nullptr, scale.data(), min.data());
    std::vector<float> scale2(scale.size()), min2(min.size());
    int8_quantize_rows(x.data(), rows, k, nullptr, q16.data(), scale2.data(), min2.data());
    EXPECT_EQ(scale, scale2);
    EXPECT_EQ(min, min2);
  }
  Int8Rows vnni() const { return {q.data(), nullptr, scale.data(), min.data(), ld, groups}; }
  Int8Rows avx2() const { return {nullptr, q16.data(), scale.data(), min.data(), ld, groups}; }
  double value(size_t m, size_t kk) const {
    const size_t g = kk / kInt8Group;
    return double(scale[m * groups + g]) * q[m * ld + kk] + min[m * groups + g];
  }
};

// bias[c] + sum_k x~[m, k] * w~[c, k] in double; the tolerance covers the
// f32 epilogue (a few roundings of terms up to the sum of magnitudes).
double reference(const QuantizedRows& x, const QuantizedWeights& w, const std::vector<float>& b, size_t k, size_t m,
                 size_t c, double* tolerance) {
  double acc = b[c], magnitude = std::fabs(b[c]);
  for (size_t kk = 0; kk < k; ++kk) {
    const double term = x.value(m, kk) * w.value(c, kk, k);
    acc += term;
    magnitude += std::fabs(term);
  }
  *tolerance = 2e-6 * magnitude + 1e-6;
  return acc;
}

TEST(Int8Gemm, QuantizedRowsReconstructTheInput) {
  const size_t rows = 5, k = 130;  // two whole groups and a partial one
  auto x = random_vector(rows * k, 7);
  for (size_t kk = 0; kk < k; ++kk) x[3 * k + kk] = 0.25f;  // a constant row: scale 0, exact
  const QuantizedRows q(x, rows, k);
  for (size_t m = 0; m < rows; ++m)
    for (size_t kk = 0; kk < q.ld; ++kk) {
      if (kk >= k) {
        ASSERT_EQ(q.q[m * q.ld + kk], 0) << "padding after K must be zero";
        continue;
      }
      const double step = q.scale[m * q.groups + kk / kInt8Group];
      ASSERT_NEAR(q.value(m, kk), x[m * k + kk], step / 2 + 1e-6) << m << "," << kk;
      ASSERT_EQ(q.q16[m * q.ld + kk], q.q[m * q.ld + kk]);
    }
  EXPECT_EQ(q.scale[3 * q.groups], 0.0f);
  EXPECT_EQ(q.value(3, 0), 0.25);
}

TEST(Int8Gemm, WeightsQuantizeSymmetricallyPerRow) {
  const std::vector<float> w = {1.0f, -0.5f, 0.25f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -2.0f, 2.0f, 1.0f, 0.0f};
  const QuantizedWeights q(w, 3, 4);
  EXPECT_FLOAT_EQ(q.scales[0], 1.0f / 127);
  EXPECT_EQ(q.q[0], 127);
  EXPECT_EQ(q.q[1], -64);  // -63.5 rounds to even
  EXPECT_EQ(q.scales[1], 0.0f);  // a zero row
  EXPECT_EQ(q.q[4], 0);
  EXPECT_EQ(q.q[8], -127);  // never -128
  std::vector<float> back(12);
  int8::dequantize_rows(q.q.data(), q.scales.data(), 3, 4, back.data());
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(back[i], w[i], q.scales[i / 4] / 2 + 1e-7);
  const std::vector<float> bad = {1.0f, NAN};
  std::vector<int8_t> out(2);
  float scale;
  EXPECT_THROW(int8::quantize_rows(bad.data(), 1, 2, out.data(), &scale), Error);
}

TEST(Int8Gemm, EveryTailAgainstDoubleReferenceOnBothInstructionSets) {
  const bool vnni = int8_vnni512_supported();
  const size_t row_counts[] = {1, 2, 3, 4, 5, 6, 7, 11, 13, 40};
  const size_t ks[] = {1, 3, 4, 63, 64, 65, 130, 384};
  const size_t ns[] = {1, 7, 8, 9, 31, 32, 33, 64, 100};
  uint32_t seed = 1;
  for (size_t rows : row_counts)
    for (size_t k : ks)
      for (size_t n : ns) {
        const auto x = random_vector(rows * k, ++seed), w = random_vector(n * k, ++seed, 0.2f),
                   b = random_vector(n, ++seed);
        const QuantizedRows xq(x, rows, k);
        const QuantizedWeights wq(w, n, k);
        std::vector<int8_t> panels(int8_packed_size(n, k));
        std::vector<float> colsums(int8_colsums_size(n, k));
        int8_pack_weights(wq.q.data(), n, k, panels.data(), colsums.data());
        const Int8Weights packed{panels.data(), colsums.data(), wq.scales.data(), n, k};
        // The whole width, then the columns from the second panel on.
        for (auto [n0, n1] : {std::pair<size_t, size_t>{0, n}, {n > 32 ? 32 : 0, n}}) {
          const size_t ldy = n + 5;  // y wider than the product: columns outside [n0, n1) stay put
          const std::string what = "rows " + std::to_string(rows) + " k " + std::to_string(k) + " n " +
                                   std::to_string(n) + " from " + std::to_string(n0);
          std::vector<float> y(rows * ldy, test::kUntouched);
          int8_gemm_avx2(xq.avx2(), rows, packed, b.data(), y.data(), ldy, n0, n1);
          test::expect_product(
              y, rows, ldy, n0, n1, [&](size_t m, size_t c, double* tol) { return reference(xq, wq, b, k, m, c, tol); },
              "avx2 " + what);
          if (!vnni) continue;
          std::vector<float> yv(rows * ldy, test::kUntouched);
          int8_gemm_vnni512(xq.vnni(), rows, packed, b.data(), yv.data(), ldy, n0, n1);
          ASSERT_EQ(yv, y) << "VNNI and AVX2 differ: " << what;
        }
      }
  if (!vnni) GTEST_SKIP() << "the AVX2 kernel was checked; this CPU has no AVX512-VNNI for the other";
}

// An environment variable set for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

// Linear on int8 weights: the kernel the seam picks (and ARROWEMBED_ISA
// limits), every thread count and forward_shared the same floats, and the
// product close to the float one (int8 error only).
TEST(Int8Gemm, LinearOnInt8WeightsOnEachInstructionSet) {
  const size_t in = 384, out = 100;
  const auto w = random_vector(out * in, 3, 0.05f), b = random_vector(out, 4, 0.1f);
  const QuantizedWeights wq(w, out, in);
  TensorView weight{"w", DType::I8, {int64_t(out), int64_t(in)}, wq.q.data()};
  TensorView scale{"w_scale", DType::F32, {int64_t(out)}, wq.scales.data()};
  TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
  std::vector<std::vector<float>> per_isa;
  for (const char* isa : {"avx512", "avx2"}) {
    ScopedEnv env("ARROWEMBED_ISA", isa);
    const Linear linear(weight, bias, MatmulPrecision::F32, &scale);
    const bool vnni = std::string(isa) == "avx512" && int8_vnni512_supported();
    EXPECT_EQ(linear.kernel_name(), vnni ? "int8-vnni512" : "int8-avx2");
    EXPECT_EQ(linear.packed_bytes(), int8_packed_size(out, in) + int8_colsums_size(out, in) * sizeof(float));
    for (size_t rows : {size_t{1}, size_t{14}, size_t{70}, size_t{301}}) {
      const auto x = random_vector(rows * in, static_cast<uint32_t>(rows));
      std::vector<float> first;
      for (size_t threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        Linear::Scratch scratch;
        std::vector<float> y(rows * out, -1.0f), y2(rows * out, -2.0f), y3(rows * out, -3.0f);
        linear.forward(x.data(), rows, y.data(), Activation::Gelu, pool, scratch);
        Linear::forward_shared({{&linear, y2.data(), Activation::Gelu}, {&linear, y3.data(), Activation::None}},
                               x.data(), rows, pool, scratch);
        ASSERT_EQ(y, y2) << "forward_shared differs from forward";
        if (threads > 1) {
          ASSERT_EQ(y, first) << isa << " rows " << rows << ": " << threads << " threads differ from one";
          continue;
        }
        first = y;
        for (size_t m = 0; m < rows; ++m)
          for (size_t c = 0; c < out; ++c) {
            double magnitude;
            const double exact = test::linear_reference(x, w, b, in, m, c, false, &magnitude);
            // int8 error: ~1/255 of each input group's range and 1/254 of each weight row's
            ASSERT_NEAR(y3[m * out + c], exact, 0.02 * magnitude + 1e-3) << isa << " rows " << rows << " at " << m;
            const double gelu = 0.5 * y3[m * out + c] * (1 + std::erf(y3[m * out + c] / std::sqrt(2.0)));
            ASSERT_NEAR(y[m * out + c], gelu, 1e-5 + 1e-5 * std::fabs(gelu));
          }
      }
      if (rows == 301) per_isa.push_back(first);
    }
  }
  ASSERT_EQ(per_isa.size(), 2u);
  EXPECT_EQ(per_isa[0], per_isa[1]) << "the VNNI and AVX2 paths must give the same floats";
}

TEST(Int8Gemm, TheSeamRefusesWhatItCannotRun) {
  const std::vector<int8_t> q(8, 1);
  const std::vector<float> s(2, 0.1f), b(2, 0.0f), f(8, 0.5f);
  TensorView weight{"w", DType::I8, {2, 4}, q.data()};
  TensorView scale{"w_scale", DType::F32, {2}, s.data()};
  TensorView bias{"b", DType::F32, {2}, b.data()};
  try {
    Linear(weight, bias, MatmulPrecision::BF16, &scale);
    FAIL() << "bf16 precision accepted on int8 weights";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("int8 products"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Linear(weight, bias, MatmulPrecision::F32, nullptr), Error);  // no scale
  {
    ScopedEnv env("ARROWEMBED_ISA", "sse2");
    EXPECT_THROW(Linear(weight, bias, MatmulPrecision::F32, &scale), Error);
  }
  {
    ScopedEnv env("ARROWEMBED_ISA", "avx2");  // the baseline refuses bf16 as a CPU without it would
    TensorView fw{"w", DType::F32, {2, 4}, f.data()};
    EXPECT_THROW(Linear(fw, bias, MatmulPrecision::BF16), Error);
    EXPECT_EQ(Linear(fw, bias).kernel_name(), "f32-avx2");
  }
  TensorView i64{"w", DType::I64, {2, 4}, q.data()};
  EXPECT_THROW(Linear(i64, bias), Error);
}

}  // namespace
}  // namespace arrowembed::engine

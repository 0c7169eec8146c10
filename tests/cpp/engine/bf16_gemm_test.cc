// The bf16 product kernel (bf16_gemm.h) and Linear's BF16 precision: every
// sum must be exactly what double arithmetic gives on the bf16-rounded
// inputs, up to f32 accumulation, over shapes that exercise each tail
// (rows not a multiple of the 8-row tile, columns not a multiple of the
// 32-column panel, odd K, K not a multiple of 32, column sub-ranges). On a
// CPU without AVX512-BF16 the precision must be refused with a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "arrowembed/error.h"
#include "arrowembed/format/tensor.h"
#include "engine/bf16_gemm.h"
#include "engine/linear.h"
#include "engine/thread_pool.h"
#include "engine/kernel_test_util.h"

namespace arrowembed::engine {
namespace {

using test::random_vector;
using test::Weights;

float bf16_bits_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// The value of f rounded to bf16, nearest even, computed independently of
// the kernel's code: the two bf16 neighbours, the nearer one (the even one
// on a tie).
float round_bf16(float f) {
  if (std::isinf(f)) return f;
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const float down = bf16_bits_to_float(static_cast<uint16_t>(bits >> 16));
  const float up = bf16_bits_to_float(static_cast<uint16_t>((bits >> 16) + 1));
  const double dd = std::fabs(double(f) - down), du = std::fabs(double(up) - f);
  if (dd != du) return dd < du ? down : up;
  return ((bits >> 16) & 1) ? up : down;
}

std::vector<float> rounded(const std::vector<float>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = round_bf16(v[i]);
  return r;
}

// The reference on bf16-rounded x and w, and the bound an f32 accumulation
// of the same products may be off by.
double reference(const std::vector<float>& xr, const std::vector<float>& wr, const std::vector<float>& b, size_t k,
                 size_t m, size_t n, bool gelu, double* tolerance) {
  double magnitude;
  const double want = test::linear_reference(xr, wr, b, k, m, n, gelu, &magnitude);
  *tolerance = 2e-6 * magnitude + 1e-6;
  return want;
}

TEST(Bf16Gemm, RoundsToNearestEvenLikeTheReference) {
  if (!bf16_supported()) GTEST_SKIP() << "covered by Bf16Gemm.RefusedWithoutCpuSupport";
  std::vector<float> x = random_vector(1000, 5, 3.0f);
  // Ties and specials: 1 + 2^-8 is halfway between two bf16 values.
  for (float f : {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -1.0f - 1.0f / 256, 0.0f, -0.0f, 1e-40f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 3.0e38f})
    x.push_back(f);
  for (size_t k : {x.size(), size_t{33}, size_t{31}}) {
    const size_t rows = x.size() / k;
    std::vector<uint16_t> xb(rows * bf16_row_stride(k), 0xffff);
    bf16_round_rows(x.data(), rows, k, xb.data());
    for (size_t m = 0; m < rows; ++m) {
      for (size_t i = 0; i < k; ++i)
        ASSERT_EQ(bf16_bits_to_float(xb[m * bf16_row_stride(k) + i]), round_bf16(x[m * k + i])) << x[m * k + i];
      if (k % 2) {
        ASSERT_EQ(xb[m * bf16_row_stride(k) + k], 0) << "odd K is padded with zero";
      }
    }
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint16_t> xb(2);
  bf16_round_rows(&nan, 1, 1, xb.data());
  EXPECT_TRUE(std::isnan(bf16_bits_to_float(xb[0])));
}

TEST(Bf16Gemm, EveryTailAgainstDoubleReference) {
  if (!bf16_supported()) GTEST_SKIP() << "covered by Bf16Gemm.RefusedWithoutCpuSupport";
  const size_t row_counts[] = {1, 2, 7, 8, 9, 15, 17, 40};
  const size_t ks[] = {1, 2, 3, 31, 32, 33, 64, 384, 777};
  const size_t ns[] = {1, 5, 16, 17, 31, 32, 33, 64, 100};
  uint32_t seed = 1;
  for (size_t rows : row_counts)
    for (size_t k : ks)
      for (size_t n : ns) {
        const auto x = random_vector(rows * k, ++seed), w = random_vector(n * k, ++seed, 0.2f),
                   b = random_vector(n, ++seed);
        const auto xr = rounded(x), wr = rounded(w);
        std::vector<uint16_t> packed(bf16_packed_size(n, k)), xb(rows * bf16_row_stride(k));
        bf16_pack_weights(w.data(), n, k, packed.data());
        bf16_round_rows(x.data(), rows, k, xb.data());
        // The whole width, then the columns from the second panel on.
        for (auto [n0, n1] : {std::pair<size_t, size_t>{0, n}, {n > 32 ? 32 : 0, n}}) {
          const size_t ldy = n + 5;  // y wider than the product: columns outside [n0, n1) stay put
          std::vector<float> y(rows * ldy, test::kUntouched);
          bf16_gemm(xb.data(), rows, k, packed.data(), b.data(), y.data(), ldy, n0, n1);
          test::expect_product(
              y, rows, ldy, n0, n1, [&](size_t m, size_t c, double* tol) { return reference(xr, wr, b, k, m, c, false, tol); },
              "rows " + std::to_string(rows) + " k " + std::to_string(k) + " n " + std::to_string(n));
        }
      }
}

// Linear with BF16 precision, f32 and f16 weights, with and without GELU,
// few and many rows, 1-3 threads, alone and as one of forward_shared's jobs.
TEST(Bf16Gemm, LinearBf16MatchesReference) {
  if (!bf16_supported()) GTEST_SKIP() << "covered by Bf16Gemm.RefusedWithoutCpuSupport";
  struct Shape {
    size_t in, out;
  };
  // One thread's results are checked against the double reference; more
  // threads split the same tasks differently and must give the same floats
  // (the reference, at -O0 in the coverage build, is most of this test's
  // time, so it runs once per case, not once per thread count).
  for (Shape shape : {Shape{64, 96}, Shape{384, 1536}, Shape{37, 51}, Shape{1536, 40}})
    for (bool f16 : {false, true}) {
      const size_t in = shape.in, out = shape.out;
      const Weights w(out, in, static_cast<uint32_t>(in + out), f16);
      const auto b = random_vector(out, 9);
      TensorView weight{"w", f16 ? DType::F16 : DType::F32, {int64_t(out), int64_t(in)},
                        f16 ? static_cast<const void*>(w.bits.data()) : w.values.data()};
      TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
      const Linear linear(weight, bias, MatmulPrecision::BF16);
      const auto wr = rounded(w.values);
      for (size_t rows : {size_t{1}, size_t{14}, size_t{70}, size_t{301}}) {
        const auto x = random_vector(rows * in, static_cast<uint32_t>(rows));
        const auto xr = rounded(x);
        for (auto act : {Activation::None, Activation::Gelu}) {
          std::vector<float> first;
          for (size_t threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            Linear::Scratch scratch;
            std::vector<float> y(rows * out, -1.0f), y2(rows * out, -2.0f), y3(rows * out, -3.0f);
            linear.forward(x.data(), rows, y.data(), act, pool, scratch);
            Linear::forward_shared({{&linear, y2.data(), act}, {&linear, y3.data(), Activation::None}}, x.data(),
                                   rows, pool, scratch);
            ASSERT_EQ(y, y2) << "forward_shared differs from forward";
            if (act == Activation::None) {
              ASSERT_EQ(y, y3);
            }
            if (threads > 1) {
              ASSERT_EQ(y, first) << (f16 ? "f16" : "f32") << " " << in << "x" << out << " rows " << rows
                                  << ": " << threads << " threads differ from one";
              continue;
            }
            for (size_t m = 0; m < rows; ++m)
              for (size_t c = 0; c < out; ++c) {
                double tol;
                const double want = reference(xr, wr, b, in, m, c, act == Activation::Gelu, &tol);
                ASSERT_NEAR(y[m * out + c], want, tol + 1e-6 * std::fabs(want))
                    << (f16 ? "f16" : "f32") << " " << in << "x" << out << " rows " << rows << " at " << m << ","
                    << c;
              }
            first = y;
          }
        }
      }
    }
}

TEST(Bf16Gemm, RefusedWithoutCpuSupport) {
  const std::vector<float> w(8, 0.5f), b(2, 0.0f);
  TensorView weight{"w", DType::F32, {2, 4}, w.data()};
  TensorView bias{"b", DType::F32, {2}, b.data()};
  if (bf16_supported()) {
    EXPECT_NO_THROW(Linear(weight, bias, MatmulPrecision::BF16));
  } else {
    try {
      Linear(weight, bias, MatmulPrecision::BF16);
      FAIL() << "BF16 accepted on a CPU without AVX512-BF16";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("AVX512-BF16"), std::string::npos) << e.what();
    }
  }
}

TEST(Bf16Gemm, PrecisionNames) {
  EXPECT_EQ(precision_name(MatmulPrecision::F32), "f32");
  EXPECT_EQ(precision_name(MatmulPrecision::BF16), "bf16");
}

}  // namespace
}  // namespace arrowembed::engine

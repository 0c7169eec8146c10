// The small-M product kernel (small_gemm) and Linear's use of it, against a
// double-precision reference, over shapes that exercise every tail: rows not
// a multiple of the 3-row tile, columns not a multiple of the 4-column tile,
// K not a multiple of 8, column sub-ranges, f32 and f16 weights.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "arrowembed/format/tensor.h"
#include "engine/linear.h"
#include "engine/small_gemm.h"
#include "engine/thread_pool.h"
#include "engine/kernel_test_util.h"

namespace arrowembed::engine {
namespace {

using test::random_vector;
using test::Weights;

// The reference of an output and the bound a float computation of the same
// sum may be off by (rounding over <= a few thousand terms).
double reference(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b, size_t k,
                 size_t m, size_t n, bool gelu, double* tolerance) {
  double magnitude;
  const double want = test::linear_reference(x, w, b, k, m, n, gelu, &magnitude);
  *tolerance = 1e-6 * magnitude + 1e-6;
  return want;
}

TEST(SmallGemm, EveryTailAgainstDoubleReference) {
  const size_t row_counts[] = {1, 2, 3, 4, 5, 7, 13, 14, 32};
  const size_t ks[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 384, 777};
  const size_t ns[] = {1, 2, 3, 4, 5, 7, 9, 17, 64};
  uint32_t seed = 100;
  for (bool f16 : {false, true})
    for (size_t rows : row_counts)
      for (size_t k : ks)
        for (size_t n : ns) {
          const auto x = random_vector(rows * k, ++seed), b = random_vector(n, ++seed);
          const Weights w(n, k, ++seed, f16);
          // The whole width, then a sub-range that starts off the 4-column grid.
          for (auto [n0, n1] : {std::pair<size_t, size_t>{0, n}, {std::min<size_t>(1, n), n - (n > 3)}}) {
            const size_t ldy = n + 3;  // y wider than the product: columns outside [n0, n1) stay put
            std::vector<float> y(rows * ldy, test::kUntouched);
            if (f16)
              small_gemm_f16(x.data(), rows, k, w.bits.data(), b.data(), y.data(), ldy, n0, n1, n);
            else
              small_gemm_f32(x.data(), rows, k, w.values.data(), b.data(), y.data(), ldy, n0, n1, n);
            test::expect_product(
                y, rows, ldy, n0, n1,
                [&](size_t m, size_t c, double* tol) { return reference(x, w.values, b, k, m, c, false, tol); },
                std::string(f16 ? "f16" : "f32") + " rows " + std::to_string(rows) + " k " + std::to_string(k) +
                    " n " + std::to_string(n));
          }
        }
}

// Linear on few rows (the small-M kernel) and on many (sgemm) for the same
// weights, with and without GELU, on 1-3 threads: both match the reference.
TEST(SmallGemm, LinearBothPathsMatchReference) {
  struct Shape {
    size_t in, out;
  };
  // The double reference (at -O0 in the coverage build, most of this
  // test's time) is computed once per case and checked for every thread count.
  for (Shape shape : {Shape{64, 64}, Shape{64, 256}, Shape{256, 64}, Shape{37, 51}, Shape{384, 1536}, Shape{1000, 40}})
    for (bool f16 : {false, true}) {
      const size_t in = shape.in, out = shape.out;
      const Weights w(out, in, static_cast<uint32_t>(in * 7 + out), f16);
      const auto b = random_vector(out, 9);
      TensorView weight{"w", f16 ? DType::F16 : DType::F32, {int64_t(out), int64_t(in)},
                        f16 ? static_cast<const void*>(w.bits.data()) : w.values.data()};
      TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
      const Linear linear(weight, bias);
      const size_t limit = Linear::small_rows_limit();
      for (size_t rows : {size_t{1}, size_t{14}, limit, limit + 1, size_t{150}}) {
        const auto x = random_vector(rows * in, static_cast<uint32_t>(rows));
        for (auto act : {Activation::None, Activation::Gelu}) {
          std::vector<double> want(rows * out), tol(rows * out);
          for (size_t m = 0; m < rows; ++m)
            for (size_t c = 0; c < out; ++c)
              want[m * out + c] = reference(x, w.values, b, in, m, c, act == Activation::Gelu, &tol[m * out + c]);
          for (size_t threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            Linear::Scratch scratch;
            std::vector<float> y(rows * out, -1.0f);
            linear.forward(x.data(), rows, y.data(), act, pool, scratch);
            for (size_t i = 0; i < rows * out; ++i) {
              ASSERT_NEAR(y[i], want[i], tol[i]) << (f16 ? "f16" : "f32") << " " << in << "x" << out << " rows " << rows
                                                 << " threads " << threads << " at " << i / out << "," << i % out;
            }
          }
        }
      }
    }
}

// Several layers on one input in one call (Q, K and V) give exactly what
// separate forward() calls give, on few rows (one shared loop) and many.
TEST(SmallGemm, ForwardSharedEqualsSeparateCalls) {
  ThreadPool pool(2);
  const size_t in = 40;
  for (bool f16 : {false, true}) {
    std::vector<Weights> weights;
    std::vector<std::vector<float>> biases;
    std::vector<Linear> layers;
    const size_t outs[] = {40, 13, 100};
    for (size_t i = 0; i < 3; ++i) {
      weights.emplace_back(outs[i], in, static_cast<uint32_t>(20 + i), f16);
      biases.push_back(random_vector(outs[i], static_cast<uint32_t>(30 + i)));
    }
    for (size_t i = 0; i < 3; ++i) {
      TensorView weight{"w", f16 ? DType::F16 : DType::F32, {int64_t(outs[i]), int64_t(in)},
                        f16 ? static_cast<const void*>(weights[i].bits.data()) : weights[i].values.data()};
      layers.emplace_back(weight, TensorView{"b", DType::F32, {int64_t(outs[i])}, biases[i].data()});
    }
    Linear::Scratch scratch;
    for (size_t rows : {size_t{1}, size_t{14}, Linear::small_rows_limit() + 5}) {
      const auto x = random_vector(rows * in, static_cast<uint32_t>(rows + 40));
      std::vector<std::vector<float>> shared(3), separate(3);
      for (size_t i = 0; i < 3; ++i) shared[i].assign(rows * outs[i], 0.0f), separate[i].assign(rows * outs[i], 1.0f);
      Linear::forward_shared({{&layers[0], shared[0].data(), Activation::None},
                              {&layers[1], shared[1].data(), Activation::Gelu},
                              {&layers[2], shared[2].data(), Activation::None}},
                             x.data(), rows, pool, scratch);
      layers[0].forward(x.data(), rows, separate[0].data(), Activation::None, pool, scratch);
      layers[1].forward(x.data(), rows, separate[1].data(), Activation::Gelu, pool, scratch);
      layers[2].forward(x.data(), rows, separate[2].data(), Activation::None, pool, scratch);
      for (size_t i = 0; i < 3; ++i) EXPECT_EQ(shared[i], separate[i]) << "layer " << i << " rows " << rows;
    }
  }
}

}  // namespace
}  // namespace arrowembed::engine

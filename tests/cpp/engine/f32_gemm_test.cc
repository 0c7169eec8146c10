// The packed f32 product kernel (f32_gemm.h), which Linear runs for
// products of more rows than the small-M kernel takes: every sum must be
// what double arithmetic gives, up to f32 accumulation, over shapes that
// exercise each tail (rows not a multiple of the 6-row tile, columns not a
// multiple of the 16-column panel, any K, column sub-ranges, row blocks).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arrowembed/format/tensor.h"
#include "engine/f32_gemm.h"
#include "engine/kernel_test_util.h"
#include "engine/linear.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {
namespace {

using test::random_vector;

// Runs the kernel on [n0, n1) of a y wider than the product and checks
// every element: the products against the reference, the rest untouched.
void expect_gemm_matches_reference(size_t rows, size_t k, size_t n, size_t n0, size_t n1, uint32_t seed) {
  const auto x = random_vector(rows * k, seed), w = random_vector(n * k, seed + 1, 0.2f),
             b = random_vector(n, seed + 2);
  std::vector<float> packed(f32_packed_size(n, k), -1.0f);
  f32_pack_weights(w.data(), n, k, packed.data());
  const size_t ldy = n + 5;
  std::vector<float> y(rows * ldy, test::kUntouched);
  f32_gemm(x.data(), rows, k, packed.data(), b.data(), y.data(), ldy, n0, n1);
  test::expect_product(
      y, rows, ldy, n0, n1,
      [&](size_t m, size_t c, double* tol) {
        double magnitude;
        const double want = test::linear_reference(x, w, b, k, m, c, false, &magnitude);
        *tol = 2e-6 * magnitude + 1e-6;
        return want;
      },
      "rows " + std::to_string(rows) + " k " + std::to_string(k) + " n " + std::to_string(n));
}

TEST(F32Gemm, EveryTailAgainstDoubleReference) {
  uint32_t seed = 1;
  for (size_t rows : {1, 2, 5, 6, 7, 13, 70})
    for (size_t k : {1, 3, 8, 17, 384, 777})
      for (size_t n : {1, 5, 8, 15, 16, 17, 33, 100}) {
        // The whole width, then the columns from the second panel on.
        expect_gemm_matches_reference(rows, k, n, 0, n, seed += 3);
        if (n > kF32PanelColumns) expect_gemm_matches_reference(rows, k, n, kF32PanelColumns, n, seed += 3);
      }
}

// More rows than one block holds (384 KiB of X's rows: 256 rows of K = 384,
// 126 of K = 777), so the block loop runs more than once, with a partial
// last block.
TEST(F32Gemm, RowsSpanningSeveralBlocks) {
  expect_gemm_matches_reference(600, 384, 40, 0, 40, 100);
  expect_gemm_matches_reference(300, 777, 20, 16, 20, 200);
}

// The panel layout: element (column c, k) of W sits at panel c / 16,
// position k * 16 + c % 16; the last panel's missing columns are zeros.
TEST(F32Gemm, PacksColumnsIntoZeroPaddedPanels) {
  const size_t n = 20, k = 3;
  std::vector<float> w(n * k);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i + 1);
  ASSERT_EQ(f32_packed_size(n, k), 2 * k * kF32PanelColumns);
  std::vector<float> packed(f32_packed_size(n, k), -1.0f);
  f32_pack_weights(w.data(), n, k, packed.data());
  for (size_t p = 0; p < 2; ++p)
    for (size_t kk = 0; kk < k; ++kk)
      for (size_t c = 0; c < kF32PanelColumns; ++c) {
        const size_t col = p * kF32PanelColumns + c;
        EXPECT_EQ(packed[p * k * kF32PanelColumns + kk * kF32PanelColumns + c], col < n ? w[col * k + kk] : 0.0f)
            << "panel " << p << " k " << kk << " column " << c;
      }
}

// A Linear makes its f32 panels on its first product of more rows than the
// small-M kernel takes, or when asked (pack()), and not for few rows; the
// results do not depend on which.
TEST(F32Gemm, LinearPacksOnFirstBatchOrWhenAsked) {
  ThreadPool pool(2);
  const size_t in = 40, out = 100, rows = Linear::small_rows_limit() + 36;
  const test::Weights w(out, in, 7, false);
  const auto b = random_vector(out, 8), x = random_vector(rows * in, 9);
  const TensorView weight{"w", DType::F32, {int64_t(out), int64_t(in)}, w.values.data()};
  const TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
  const Linear lazy(weight, bias), eager(weight, bias);
  Linear::Scratch scratch;
  std::vector<float> few(10 * out), y_lazy(rows * out), y_eager(rows * out);
  lazy.forward(x.data(), 10, few.data(), Activation::None, pool, scratch);
  EXPECT_EQ(lazy.packed_bytes(), 0u) << "few rows read W in place";
  lazy.forward(x.data(), rows, y_lazy.data(), Activation::None, pool, scratch);
  EXPECT_EQ(lazy.packed_bytes(), f32_packed_size(out, in) * sizeof(float));
  eager.pack();
  eager.pack();  // idempotent
  EXPECT_EQ(eager.packed_bytes(), f32_packed_size(out, in) * sizeof(float));
  eager.forward(x.data(), rows, y_eager.data(), Activation::None, pool, scratch);
  EXPECT_EQ(y_lazy, y_eager);
}

}  // namespace
}  // namespace arrowembed::engine

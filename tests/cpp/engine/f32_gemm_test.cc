// The packed f32 product kernels (f32_gemm.h), which Linear runs for
// products of more rows than the small-M kernel takes: every sum must be
// what double arithmetic gives, up to f32 accumulation, over shapes that
// exercise each tail (rows not a multiple of the 6- or 12-row tile, columns
// not a multiple of the 16- or 32-column panel, any K, column sub-ranges,
// row blocks). The AVX-512 kernel must give the AVX2 kernel's floats.
#include <gtest/gtest.h>

#include <cstdlib>
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
  const std::string what = "rows " + std::to_string(rows) + " k " + std::to_string(k) + " n " + std::to_string(n);
  test::expect_product(
      y, rows, ldy, n0, n1,
      [&](size_t m, size_t c, double* tol) {
        double magnitude;
        const double want = test::linear_reference(x, w, b, k, m, c, false, &magnitude);
        *tol = 2e-6 * magnitude + 1e-6;
        return want;
      },
      what);
  if (!__builtin_cpu_supports("avx512f") || n0 % kF32Avx512PanelColumns != 0) return;
  std::vector<float> packed512(f32_packed_size(n, k, kF32Avx512PanelColumns), -1.0f);
  f32_pack_weights(w.data(), n, k, packed512.data(), kF32Avx512PanelColumns);
  std::vector<float> y512(rows * ldy, test::kUntouched);
  f32_gemm_avx512(x.data(), rows, k, packed512.data(), b.data(), y512.data(), ldy, n0, n1);
  ASSERT_EQ(y512, y) << "AVX-512 differs from AVX2: " << what;
}

TEST(F32Gemm, EveryTailAgainstDoubleReference) {
  uint32_t seed = 1;
  for (size_t rows : {1, 2, 5, 6, 7, 11, 12, 13, 25, 70})
    for (size_t k : {1, 3, 8, 17, 384, 777})
      for (size_t n : {1, 5, 8, 15, 16, 17, 33, 100}) {
        // The whole width, then the columns from the second panel on.
        expect_gemm_matches_reference(rows, k, n, 0, n, seed += 3);
        if (n > kF32PanelColumns) expect_gemm_matches_reference(rows, k, n, kF32PanelColumns, n, seed += 3);
        if (n > kF32Avx512PanelColumns)
          expect_gemm_matches_reference(rows, k, n, kF32Avx512PanelColumns, n, seed += 3);
      }
}

// More rows than one block holds (384 KiB of X's rows: 256 rows of K = 384,
// 126 of K = 777), so the block loop runs more than once, with a partial
// last block.
TEST(F32Gemm, RowsSpanningSeveralBlocks) {
  expect_gemm_matches_reference(600, 384, 40, 0, 40, 100);
  expect_gemm_matches_reference(300, 777, 20, 16, 20, 200);
  expect_gemm_matches_reference(300, 777, 40, 32, 40, 300);
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
  const size_t panel = lazy.kernel_name() == "f32-avx512" ? kF32Avx512PanelColumns : kF32PanelColumns;
  Linear::Scratch scratch;
  std::vector<float> few(10 * out), y_lazy(rows * out), y_eager(rows * out);
  lazy.forward(x.data(), 10, few.data(), Activation::None, pool, scratch);
  EXPECT_EQ(lazy.packed_bytes(), 0u) << "few rows read W in place";
  lazy.forward(x.data(), rows, y_lazy.data(), Activation::None, pool, scratch);
  EXPECT_EQ(lazy.packed_bytes(), f32_packed_size(out, in, panel) * sizeof(float));
  eager.pack();
  eager.pack();  // idempotent
  EXPECT_EQ(eager.packed_bytes(), f32_packed_size(out, in, panel) * sizeof(float));
  eager.forward(x.data(), rows, y_eager.data(), Activation::None, pool, scratch);
  EXPECT_EQ(y_lazy, y_eager);
}

// A product's floats never depend on how its rows are split into tasks:
// every task of a product of more than 64 rows runs the packed kernel, even
// a task of 64 rows or fewer (the split follows the thread count, so
// otherwise the same texts embedded with 1 and 2 threads differed by ~3e-7).
TEST(F32Gemm, LinearRowsDoNotDependOnTheThreadCount) {
  const size_t in = 96, out = 70;
  const test::Weights w(out, in, 11, false);
  const auto b = random_vector(out, 12);
  const TensorView weight{"w", DType::F32, {int64_t(out), int64_t(in)}, w.values.data()};
  const TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
  const Linear linear(weight, bias);
  const bool wide = linear.kernel_name() == "f32-avx512";
  const size_t panel = wide ? kF32Avx512PanelColumns : kF32PanelColumns;
  std::vector<float> packed(f32_packed_size(out, in, panel));
  f32_pack_weights(w.values.data(), out, in, packed.data(), panel);
  for (size_t rows : {size_t{65}, size_t{100}, size_t{206}, size_t{301}}) {
    const auto x = random_vector(rows * in, static_cast<uint32_t>(rows));
    std::vector<float> want(rows * out);
    (wide ? f32_gemm_avx512 : f32_gemm)(x.data(), rows, in, packed.data(), b.data(), want.data(), out, 0, out);
    for (size_t threads : {1, 2, 3, 4}) {
      ThreadPool pool(threads);
      Linear::Scratch scratch;
      std::vector<float> y(rows * out);
      linear.forward(x.data(), rows, y.data(), Activation::None, pool, scratch);
      ASSERT_EQ(y, want) << rows << " rows on " << threads << " threads";
    }
  }
}

// The seam picks the AVX-512 kernel where the CPU has it, AVX2 when
// ARROWEMBED_ISA=avx2 says so; both give the same floats through Linear.
TEST(F32Gemm, LinearGivesTheSameFloatsOnEitherInstructionSet) {
  ThreadPool pool(2);
  const size_t in = 384, out = 100, rows = 150;
  const test::Weights w(out, in, 5, false);
  const auto b = random_vector(out, 6), x = random_vector(rows * in, 7);
  const TensorView weight{"w", DType::F32, {int64_t(out), int64_t(in)}, w.values.data()};
  const TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
  std::vector<std::vector<float>> results;
  for (const char* isa : {"avx512", "avx2"}) {
    ::setenv("ARROWEMBED_ISA", isa, 1);
    const Linear linear(weight, bias);
    ::unsetenv("ARROWEMBED_ISA");
    const bool wide = std::string(isa) == "avx512" && __builtin_cpu_supports("avx512f");
    EXPECT_EQ(linear.kernel_name(), wide ? "f32-avx512" : "f32-avx2");
    Linear::Scratch scratch;
    results.emplace_back(rows * out);
    linear.forward(x.data(), rows, results.back().data(), Activation::Gelu, pool, scratch);
  }
  EXPECT_EQ(results[0], results[1]);
}

}  // namespace
}  // namespace arrowembed::engine

#include "engine/linear.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include "arrowembed/error.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// Output columns per task when there are too few rows to split: enough
// work per sgemm call to amortise its overhead, small enough to balance.
constexpr size_t kColumnBlock = 64;
// Below this many rows per thread, splitting rows leaves sgemm too little
// to pack and the column split wins.
constexpr size_t kMinRowsPerTask = 32;

void widen_f16_rows(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

void gelu_block(float* y, size_t rows, size_t cols, size_t ld) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = y + r * ld;
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) _mm256_storeu_ps(row + c, simd::gelu(_mm256_loadu_ps(row + c)));
    if (c < cols) simd::store_partial(row + c, simd::gelu(simd::load_partial(row + c, cols - c)), cols - c);
  }
}

}  // namespace

Linear::Linear(const TensorView& weight, const TensorView& bias) {
  if (weight.shape.size() != 2 || bias.shape.size() != 1 || bias.shape[0] != weight.shape[0])
    throw Error("linear layer '" + weight.name + "': weight " + weight.shape_string() + " and bias " +
                bias.shape_string() + " do not fit");
  if (bias.dtype != DType::F32) throw Error("linear layer '" + bias.name + "': bias must be f32");
  if (weight.dtype != DType::F32 && weight.dtype != DType::F16)
    throw Error("linear layer '" + weight.name + "': weight must be f32 or f16");
  weight_ = weight.data;
  weight_f16_ = weight.dtype == DType::F16;
  bias_ = bias.values<float>().data();
  out_ = static_cast<size_t>(weight.shape[0]);
  in_ = static_cast<size_t>(weight.shape[1]);
}

void Linear::forward(const float* x, size_t rows, float* y, Activation activation, ThreadPool& pool,
                     std::vector<float>& scratch) const {
  if (rows == 0) return;
  const float* w = static_cast<const float*>(weight_);
  if (weight_f16_) {
    scratch.resize(out_ * in_);
    const auto* src = static_cast<const uint16_t*>(weight_);
    pool.parallel_for((out_ + kColumnBlock - 1) / kColumnBlock, [&](size_t b) {
      const size_t n0 = b * kColumnBlock, n = std::min(kColumnBlock, out_ - n0);
      widen_f16_rows(src + n0 * in_, scratch.data() + n0 * in_, n * in_);
    });
    w = scratch.data();
  }
  // One rectangle of the output: bias, product, activation.
  auto run = [&](size_t r0, size_t r, size_t n0, size_t n) {
    for (size_t i = 0; i < r; ++i) std::memcpy(y + (r0 + i) * out_ + n0, bias_ + n0, n * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(r), static_cast<blasint>(n),
                static_cast<blasint>(in_), 1.0f, x + r0 * in_, static_cast<blasint>(in_), w + n0 * in_,
                static_cast<blasint>(in_), 1.0f, y + r0 * out_ + n0, static_cast<blasint>(out_));
    if (activation == Activation::Gelu) gelu_block(y + r0 * out_ + n0, r, n, out_);
  };
  const size_t threads = pool.size();
  if (rows >= kMinRowsPerTask * threads) {
    const size_t tasks = threads, per = (rows + tasks - 1) / tasks;
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t r0 = t * per;
      if (r0 < rows) run(r0, std::min(per, rows - r0), 0, out_);
    });
  } else {
    pool.parallel_for((out_ + kColumnBlock - 1) / kColumnBlock, [&](size_t b) {
      const size_t n0 = b * kColumnBlock;
      run(0, rows, n0, std::min(kColumnBlock, out_ - n0));
    });
  }
}

}  // namespace arrowembed::engine

#include "engine/linear.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "arrowembed/error.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// Output columns per task: enough work per sgemm call to amortise its
// overhead and the f16 widening, small enough to balance two threads.
constexpr size_t kColumnBlock = 64;

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

void Linear::forward(const float* x, size_t rows, float* y, Activation activation, ThreadPool& pool) const {
  if (rows == 0) return;
  const size_t blocks = (out_ + kColumnBlock - 1) / kColumnBlock;
  pool.parallel_for(blocks, [&](size_t b) {
    const size_t n0 = b * kColumnBlock, n = std::min(kColumnBlock, out_ - n0);
    for (size_t r = 0; r < rows; ++r) std::memcpy(y + r * out_ + n0, bias_ + n0, n * sizeof(float));
    const float* w;
    thread_local std::vector<float> widened;
    if (weight_f16_) {
      widened.resize(n * in_);
      widen_f16_rows(static_cast<const uint16_t*>(weight_) + n0 * in_, widened.data(), n * in_);
      w = widened.data();
    } else {
      w = static_cast<const float*>(weight_) + n0 * in_;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(n),
                static_cast<blasint>(in_), 1.0f, x, static_cast<blasint>(in_), w, static_cast<blasint>(in_), 1.0f,
                y + n0, static_cast<blasint>(out_));
    if (activation == Activation::Gelu) gelu_block(y + n0, rows, n, out_);
  });
}

}  // namespace arrowembed::engine

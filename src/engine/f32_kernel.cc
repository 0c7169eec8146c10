// f32 products (f32 or f16 weights): the small-M kernel (AVX2) on W in place
// for few rows, packed panels for more, on the AVX-512 kernel where the CPU
// has it (see linear.h and matrix_kernel.h).
#include <immintrin.h>

#include <mutex>

#include "engine/f32_gemm.h"
#include "engine/matrix_kernel.h"
#include "engine/small_gemm.h"

namespace arrowembed::engine {

namespace {

// Column steps of the small-M kernel's tasks (its register tile is 4 columns wide).
constexpr size_t kSmallColumns = 4;

class F32Kernel final : public MatrixKernel {
 public:
  F32Kernel(const TensorView& weight, const float* bias, bool avx512)
      : weight_(weight), f16_(weight.dtype == DType::F16), avx512_(avx512), bias_(bias),
        out_(static_cast<size_t>(weight.shape[0])), in_(static_cast<size_t>(weight.shape[1])) {}

  std::string_view name() const override { return avx512_ ? "f32-avx512" : "f32-avx2"; }
  InputForm input_form() const override { return InputForm::F32; }
  size_t column_step(size_t rows) const override { return rows <= kF32SmallRows ? kSmallColumns : panel_columns(); }
  bool columns_only(size_t rows) const override { return rows <= kF32SmallRows; }
  void prepare_weights(size_t rows) const override {
    if (rows > kF32SmallRows) panels();
  }

  void compute(const float* x, const KernelScratch& scratch, size_t r0, size_t rows, float* y, size_t n0,
               size_t n1) const override {
    x += r0 * in_;
    y += r0 * out_;
    // By the product's rows, not this task's (see KernelScratch::rows).
    const bool packed = scratch.rows > kF32SmallRows;
    if (packed && avx512_) return f32_gemm_avx512(x, rows, in_, panels(), bias_, y, out_, n0, n1);
    if (packed) return f32_gemm(x, rows, in_, panels(), bias_, y, out_, n0, n1);
    if (f16_)
      small_gemm_f16(x, rows, in_, static_cast<const uint16_t*>(weight_.data), bias_, y, out_, n0, n1, n1);
    else
      small_gemm_f32(x, rows, in_, static_cast<const float*>(weight_.data), bias_, y, out_, n0, n1, n1);
  }

  void pack() const override { panels(); }
  size_t packed_bytes() const override { return panels_.size() * sizeof(float); }

 private:
  // f32_gemm.h's panels of W, made by the first caller.
  const float* panels() const {
    std::call_once(once_, [&] {
      std::vector<float> widened;
      panels_.resize(f32_packed_size(out_, in_, panel_columns()));
      f32_pack_weights(f32_weights(weight_, widened), out_, in_, panels_.data(), panel_columns());
    });
    return panels_.data();
  }

  size_t panel_columns() const { return avx512_ ? kF32Avx512PanelColumns : kF32PanelColumns; }

  TensorView weight_;
  bool f16_, avx512_;
  const float* bias_;
  size_t out_, in_;
  mutable std::once_flag once_;
  mutable std::vector<float> panels_;
};

}  // namespace

const float* f32_weights(const TensorView& weight, std::vector<float>& widened) {
  if (weight.dtype == DType::F32) return static_cast<const float*>(weight.data);
  const auto* src = static_cast<const uint16_t*>(weight.data);
  widened.resize(static_cast<size_t>(weight.numel()));
  size_t i = 0;
  for (; i + 8 <= widened.size(); i += 8)
    _mm256_storeu_ps(widened.data() + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < widened.size(); ++i) widened[i] = _cvtsh_ss(src[i]);
  return widened.data();
}

std::unique_ptr<MatrixKernel> make_f32_kernel(const TensorView& weight, const float* bias, bool avx512) {
  return std::make_unique<F32Kernel>(weight, bias, avx512);
}

}  // namespace arrowembed::engine

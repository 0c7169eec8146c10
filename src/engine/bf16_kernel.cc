// bf16 products with f32 sums (bf16_gemm.h): W packed at load, the input
// rounded once per product for all the layers that share it.
#include "engine/bf16_gemm.h"
#include "engine/matrix_kernel.h"

namespace arrowembed::engine {

namespace {

class Bf16Kernel final : public MatrixKernel {
 public:
  Bf16Kernel(const TensorView& weight, const float* bias)
      : bias_(bias), out_(static_cast<size_t>(weight.shape[0])), in_(static_cast<size_t>(weight.shape[1])) {
    std::vector<float> widened;
    packed_.resize(bf16_packed_size(out_, in_));
    bf16_pack_weights(f32_weights(weight, widened), out_, in_, packed_.data());
  }

  std::string_view name() const override { return "bf16-avx512"; }
  InputForm input_form() const override { return InputForm::Bf16; }
  size_t column_step(size_t) const override { return kBf16PanelColumns; }

  void prepare_input(const float* x, size_t rows, KernelScratch& scratch, ThreadPool& pool) const override {
    const size_t ldx = bf16_row_stride(in_);
    scratch.bytes.resize(rows * ldx * sizeof(uint16_t));
    auto* rounded = reinterpret_cast<uint16_t*>(scratch.bytes.data());
    for_row_chunks(rows, pool, [&](size_t r0, size_t n) { bf16_round_rows(x + r0 * in_, n, in_, rounded + r0 * ldx); });
  }

  void compute(const float*, const KernelScratch& scratch, size_t r0, size_t rows, float* y, size_t n0,
               size_t n1) const override {
    const size_t ldx = bf16_row_stride(in_);
    const auto* xb = reinterpret_cast<const uint16_t*>(scratch.bytes.data()) + r0 * ldx;
    bf16_gemm(xb, rows, in_, packed_.data(), bias_, y + r0 * out_, out_, n0, n1);
  }

  size_t packed_bytes() const override { return packed_.size() * sizeof(uint16_t); }

 private:
  const float* bias_;
  size_t out_, in_;
  std::vector<uint16_t> packed_;
};

}  // namespace

std::unique_ptr<MatrixKernel> make_bf16_kernel(const TensorView& weight, const float* bias) {
  return std::make_unique<Bf16Kernel>(weight, bias);
}

}  // namespace arrowembed::engine

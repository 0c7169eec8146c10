// int8 products with int32 sums (int8_gemm.h): W packed at load with its
// column sums, the input quantized once per product (per row and group of
// K) for all the layers that share it.
#include "engine/int8_gemm.h"
#include "engine/matrix_kernel.h"

namespace arrowembed::engine {

namespace {

class Int8Kernel final : public MatrixKernel {
 public:
  Int8Kernel(const TensorView& weight, const TensorView& scale, const float* bias, bool vnni512)
      : bias_(bias), vnni512_(vnni512) {
    w_.n = static_cast<size_t>(weight.shape[0]);
    w_.k = static_cast<size_t>(weight.shape[1]);
    w_.scales = scale.values<float>().data();
    panels_.resize(int8_packed_size(w_.n, w_.k));
    colsums_.resize(int8_colsums_size(w_.n, w_.k));
    int8_pack_weights(weight.values<int8_t>().data(), w_.n, w_.k, panels_.data(), colsums_.data());
    w_.panels = panels_.data();
    w_.colsums = colsums_.data();
  }

  std::string_view name() const override { return vnni512_ ? "int8-vnni512" : "int8-avx2"; }
  InputForm input_form() const override { return vnni512_ ? InputForm::Int8U8 : InputForm::Int8I16; }
  size_t column_step(size_t) const override { return kInt8PanelColumns; }

  void prepare_input(const float* x, size_t rows, KernelScratch& scratch, ThreadPool& pool) const override {
    const Layout l = layout(rows);
    scratch.bytes.resize(l.total);
    uint8_t* base = scratch.bytes.data();
    auto* scale = reinterpret_cast<float*>(base + l.values);
    auto* min = reinterpret_cast<float*>(base + l.scales);
    const size_t ld = int8_padded_k(w_.k), groups = int8_groups(w_.k);
    for_row_chunks(rows, pool, [&](size_t r0, size_t n) {
      int8_quantize_rows(x + r0 * w_.k, n, w_.k, vnni512_ ? base + r0 * ld : nullptr,
                         vnni512_ ? nullptr : reinterpret_cast<int16_t*>(base) + r0 * ld, scale + r0 * groups,
                         min + r0 * groups);
    });
  }

  void compute(const float*, const KernelScratch& scratch, size_t r0, size_t rows, float* y, size_t n0,
               size_t n1) const override {
    const Int8Rows x = view(scratch.bytes.data(), layout(scratch.rows));
    if (vnni512_)
      int8_gemm_vnni512(x.from(r0), rows, w_, bias_, y + r0 * w_.n, w_.n, n0, n1);
    else
      int8_gemm_avx2(x.from(r0), rows, w_, bias_, y + r0 * w_.n, w_.n, n0, n1);
  }

  size_t packed_bytes() const override { return panels_.size() + colsums_.size() * sizeof(float); }

 private:
  // Where the quantized rows, scales and mins sit in the scratch bytes.
  struct Layout {
    size_t values, scales, total;  // bytes of the values, offset of the mins, total
  };
  size_t value_bytes() const { return vnni512_ ? sizeof(uint8_t) : sizeof(int16_t); }
  Layout layout(size_t rows) const {
    const size_t values = rows * int8_padded_k(w_.k) * value_bytes();
    const size_t scales = rows * int8_groups(w_.k) * sizeof(float);
    return {values, values + scales, values + 2 * scales};
  }
  Int8Rows view(const uint8_t* base, const Layout& l) const {
    Int8Rows r;
    if (vnni512_)
      r.q = base;
    else
      r.q16 = reinterpret_cast<const int16_t*>(base);  // (2-byte aligned: vector storage)
    r.scale = reinterpret_cast<const float*>(base + l.values);
    r.min = reinterpret_cast<const float*>(base + l.scales);
    r.ld = int8_padded_k(w_.k);
    r.groups = int8_groups(w_.k);
    return r;
  }

  const float* bias_;
  bool vnni512_;
  Int8Weights w_;
  std::vector<int8_t> panels_;
  std::vector<float> colsums_;
};

}  // namespace

std::unique_ptr<MatrixKernel> make_int8_kernel(const TensorView& weight, const TensorView& scale, const float* bias,
                                               bool vnni512) {
  return std::make_unique<Int8Kernel>(weight, scale, bias, vnni512);
}

}  // namespace arrowembed::engine

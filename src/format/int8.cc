#include "arrowembed/format/int8.h"

#include <algorithm>
#include <cmath>

#include "arrowembed/error.h"

namespace arrowembed::int8 {

std::string scale_name(std::string_view matrix) { return std::string(matrix) + "_scale"; }

bool is_scale_of_int8_matrix(const ModelFile& model, const TensorView& t) {
  static constexpr std::string_view kSuffix = "_scale";
  if (!std::string_view(t.name).ends_with(kSuffix)) return false;
  const TensorView* matrix = model.find(std::string_view(t.name).substr(0, t.name.size() - kSuffix.size()));
  return matrix != nullptr && matrix->dtype == DType::I8;
}

void check_scale(const TensorView& matrix, const TensorView* scale) {
  const std::string name = scale_name(matrix.name);
  if (scale == nullptr) throw Error("int8 tensor '" + matrix.name + "' has no scale tensor '" + name + "'");
  const int64_t rows = matrix.shape.size() == 2 ? matrix.shape[0] : -1;
  if (scale->dtype != DType::F32 || scale->shape != std::vector<int64_t>{rows})
    throw Error("scale tensor '" + name + "' must be f32 of shape [" + std::to_string(rows) + "], one per row of '" +
                matrix.name + "'");
}

const TensorView& scale_of(const ModelFile& model, const TensorView& matrix) {
  const TensorView* scale = model.find(scale_name(matrix.name));
  check_scale(matrix, scale);
  return *scale;
}

void quantize_rows(const float* w, size_t rows, size_t columns, int8_t* q, float* scales) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * columns;
    float max_abs = 0.0f;
    for (size_t c = 0; c < columns; ++c) {
      if (!std::isfinite(row[c])) throw Error("cannot quantize a matrix with non-finite values to int8");
      max_abs = std::max(max_abs, std::fabs(row[c]));
    }
    const float scale = max_abs / 127.0f;
    scales[r] = scale;
    for (size_t c = 0; c < columns; ++c) {
      const float v = scale > 0.0f ? std::nearbyint(row[c] / scale) : 0.0f;
      q[r * columns + c] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
  }
}

void dequantize_rows(const int8_t* q, const float* scales, size_t rows, size_t columns, float* w) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < columns; ++c) w[r * columns + c] = static_cast<float>(q[r * columns + c]) * scales[r];
}

}  // namespace arrowembed::int8

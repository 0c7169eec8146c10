#pragma once
// int8 weights in a model file (format version 2): a matrix of int8 values
// in its usual [rows, columns] layout, and beside it, named
// "<matrix>_scale", one f32 scale per row: row r holds round(w[r, :] / scale[r])
// with scale[r] = max |w[r, :]| / 127 (symmetric, so -128 never occurs and a
// zero row has scale 0). For a Linear weight a row is an output channel;
// for an embedding table it is a token's vector.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "arrowembed/format/model_file.h"

namespace arrowembed::int8 {

// "<matrix>_scale": the name of a matrix's scale tensor.
std::string scale_name(std::string_view matrix);
// True when `t` is the scale of an int8 matrix of `model` (stored beside
// it, not a tensor of the model's layout).
bool is_scale_of_int8_matrix(const ModelFile& model, const TensorView& t);
// Throws Error unless `scale` (nullptr: not found) is the f32 [rows] scale
// tensor an int8 `matrix` needs.
void check_scale(const TensorView& matrix, const TensorView* scale);
// The scale tensor of int8 matrix `matrix`, checked as above.
const TensorView& scale_of(const ModelFile& model, const TensorView& matrix);

// Quantizes rows x columns f32 values (row-major) into q and one scale per row.
void quantize_rows(const float* w, size_t rows, size_t columns, int8_t* q, float* scales);
// The reverse: w[r, c] = q[r, c] * scales[r].
void dequantize_rows(const int8_t* q, const float* scales, size_t rows, size_t columns, float* w);

}  // namespace arrowembed::int8

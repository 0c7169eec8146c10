#pragma once
// Element types of stored tensors.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace arrowembed {

enum class DType : uint8_t { F32, F16, BF16, F64, I64, I8 };

// "f32", "f16", ... as used in the CLI, in `info` and in the model file.
std::string_view dtype_name(DType dtype);
// Parses "f32"/"float32"/"F32" style names; throws Error on anything else.
DType parse_dtype(std::string_view name);
size_t dtype_size(DType dtype);
// True for the element types a model file stores weights in (f32, f16, and
// int8 with a per-row f32 scale beside each matrix: see format/int8.h).
bool is_stored_weight_dtype(DType dtype);

}  // namespace arrowembed

#include "arrowembed/format/dtype.h"

#include <string>

#include "arrowembed/error.h"

namespace arrowembed {

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::F64: return "f64";
    case DType::I64: return "i64";
    case DType::I8: return "int8";
  }
  return "?";
}

DType parse_dtype(std::string_view name) {
  if (name == "f32" || name == "float32" || name == "F32") return DType::F32;
  if (name == "f16" || name == "float16" || name == "F16") return DType::F16;
  if (name == "bf16" || name == "bfloat16" || name == "BF16") return DType::BF16;
  if (name == "f64" || name == "float64" || name == "F64") return DType::F64;
  if (name == "i64" || name == "int64" || name == "I64") return DType::I64;
  if (name == "int8" || name == "i8" || name == "I8") return DType::I8;
  throw Error("unknown dtype '" + std::string(name) + "' (expected f32, f16 or int8)");
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::F64: return 8;
    case DType::I64: return 8;
    case DType::I8: return 1;
  }
  return 0;
}

bool is_stored_weight_dtype(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::I8;
}

}  // namespace arrowembed

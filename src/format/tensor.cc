#include "arrowembed/format/tensor.h"

#include <cstdint>

namespace arrowembed {

namespace {
template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::F32; }
template <>
constexpr DType dtype_of<uint16_t>() { return DType::F16; }  // raw half bits
template <>
constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <>
constexpr DType dtype_of<int8_t>() { return DType::I8; }
}  // namespace

template <typename T>
std::span<const T> TensorView::values() const {
  if (dtype != dtype_of<T>()) {
    throw Error("tensor '" + name + "' is " + std::string(dtype_name(dtype)) + ", not " +
                std::string(dtype_name(dtype_of<T>())));
  }
  return {static_cast<const T*>(data), static_cast<size_t>(numel())};
}

template std::span<const float> TensorView::values<float>() const;
template std::span<const uint16_t> TensorView::values<uint16_t>() const;
template std::span<const int64_t> TensorView::values<int64_t>() const;
template std::span<const int8_t> TensorView::values<int8_t>() const;

std::string TensorView::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace arrowembed

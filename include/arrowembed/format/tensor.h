#pragma once
// A read-only view of one named tensor: shape, element type and a pointer to
// its bytes, which usually live in a memory-mapped model file.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "arrowembed/error.h"
#include "arrowembed/format/dtype.h"

namespace arrowembed {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }

  // Typed access; throws Error when T does not match dtype.
  template <typename T>
  std::span<const T> values() const;

  std::string shape_string() const;  // "[384, 1536]"
};

}  // namespace arrowembed

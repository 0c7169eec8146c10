#pragma once
// Conversions between f32 and the 16-bit float formats, with IEEE
// round-to-nearest-even (the rounding numpy's astype(float16) and PyTorch's
// .half() use, so converted files match them bit for bit).
#include <cstddef>
#include <cstdint>

namespace arrowembed::half {

void f32_to_f16(const float* src, uint16_t* dst, size_t n);
void f16_to_f32(const uint16_t* src, float* dst, size_t n);
void bf16_to_f32(const uint16_t* src, float* dst, size_t n);
void f64_to_f32(const double* src, float* dst, size_t n);

}  // namespace arrowembed::half

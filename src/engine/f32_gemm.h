#pragma once
// Y = X W^T + b in f32 on AVX2/FMA, on weights packed once into panels of
// 16 output columns: for each k, the 16 columns' values side by side, i.e.
// the two vectors a kernel step loads while it broadcasts one value of each
// of 6 rows of X (a 6 x 16 register tile: 12 accumulators).
//
// This replaces sgemm for products of many rows (batches): sgemm copies
// panels of W again on every call (8-10 % of a batch's time in the profile
// of bench/results/engine.md), where these panels are made once per layer.
// X is read in place, row by row; a block of its rows stays in L2 while
// every panel of the task's columns passes over it.
#include <cstddef>
#include <cstdint>

namespace arrowembed::engine {

// Output columns per panel of packed weights: 16 for the AVX2 kernel, 32
// (two 512-bit vectors) for the AVX-512 one.
constexpr size_t kF32PanelColumns = 16;
constexpr size_t kF32Avx512PanelColumns = 32;

// Floats of a packed [n, k] matrix (the last panel's columns padded with zeros).
size_t f32_packed_size(size_t n, size_t k, size_t panel_columns = kF32PanelColumns);
// Packs w ([n, k] row-major, rows `ldw` apart; 0: k) into `packed`
// (f32_packed_size(n, k, panel_columns) floats).
void f32_pack_weights(const float* w, size_t n, size_t k, float* packed, size_t panel_columns = kF32PanelColumns,
                      size_t ldw = 0);

// y[m, c] = bias[c] + sum_k x[m, k] * w[c, k] for m < rows and c in
// [n0, n1) (n0 a multiple of 16; n1 a multiple of 16 or n, the columns of
// W). x rows `k` apart, y rows `ldy` apart. Single-threaded.
void f32_gemm(const float* x, size_t rows, size_t k, const float* packed, const float* bias, float* y, size_t ldy,
              size_t n0, size_t n1);

// The same on AVX-512F (f32_gemm_avx512.cc), on panels of 32 columns (n0 a
// multiple of 32): a 12 x 32 register tile (24 accumulators, X broadcast
// from memory by the FMA itself). Each sum runs over K in the same order
// with the same FMAs as f32_gemm, so the two give the same floats. Only
// call it where the CPU has AVX512F (widest_isa() in matrix_kernel.h).
void f32_gemm_avx512(const float* x, size_t rows, size_t k, const float* packed, const float* bias, float* y,
                     size_t ldy, size_t n0, size_t n1);

}  // namespace arrowembed::engine

#pragma once
// Y = X W^T + b for few rows of X, on W's own [N, K] row-major layout: no
// packing and no copies, f32 or f16 weights (f16 converted in registers
// right after the load).
//
// Each output is the dot product of a row of X with a row of W. A register
// tile of 3 rows of X by 4 rows of W keeps 12 AVX2 accumulators streaming
// along K in steps of 8 and reduces them horizontally at the end. The 4 rows
// of W of a tile stay in L1 while every group of 3 rows of X passes over
// them, so W is read from memory once per call; X (a few rows) stays in L1/L2.
// This is what one short text needs (M of ~10-60 rows), where a packed GEMM
// spends most of its time copying panels it uses only a few times.
#include <cstddef>
#include <cstdint>

namespace arrowembed::engine {

// Writes y[m, n] = bias[n] + sum_k x[m, k] * w[n, k] for every m < rows
// and n in [n0, n1). x has row stride k, w (n_total rows, f32 or f16 bits)
// row stride k, y row stride ldy. Any rows, k >= 1 and column range;
// single-threaded (callers split the columns). Reads of W never go past
// row n1; prefetches (which cannot fault) stay inside its n_total rows.
void small_gemm_f32(const float* x, size_t rows, size_t k, const float* w, const float* bias, float* y, size_t ldy,
                    size_t n0, size_t n1, size_t n_total);
void small_gemm_f16(const float* x, size_t rows, size_t k, const uint16_t* w, const float* bias, float* y,
                    size_t ldy, size_t n0, size_t n1, size_t n_total);

}  // namespace arrowembed::engine

// f32_gemm_avx512 (see f32_gemm.h). The whole file is AVX-512 code and runs
// only where the CPU has AVX512F (the kernel seam checks); it uses no
// library templates whose instances another file could share.
#include <immintrin.h>

#include "engine/f32_gemm.h"
#include "engine/lane_masks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,fma")

namespace arrowembed::engine {

namespace {

// Rows of X per register tile: 12 rows x 32 columns = 24 accumulators,
// plus two vectors of W (26 of the 32 zmm registers; X is broadcast from
// memory by each FMA).
constexpr int kTileRows = 12;
// Bytes of X's rows per block, kept in L2 next to the panel passing over it.
constexpr size_t kBlockBytes = 384 * 1024;
constexpr size_t kPanel = kF32Avx512PanelColumns;

template <int MR>
inline void tile512(const float* x, size_t k, const float* panel, const float* bias, float* y, size_t ldy,
                    __mmask16 mask0, __mmask16 mask1) {
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t kk = 0; kk < k; ++kk) {
    const __m512 w0 = _mm512_loadu_ps(panel + kk * kPanel);
    const __m512 w1 = _mm512_loadu_ps(panel + kk * kPanel + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_set1_ps(x[i * k + kk]);
      acc[i][0] = _mm512_fmadd_ps(xv, w0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(xv, w1, acc[i][1]);
    }
  }
  const __m512 b0 = _mm512_maskz_loadu_ps(mask0, bias), b1 = _mm512_maskz_loadu_ps(mask1, bias + 16);
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, mask0, _mm512_add_ps(acc[i][0], b0));
    _mm512_mask_storeu_ps(y + i * ldy + 16, mask1, _mm512_add_ps(acc[i][1], b1));
  }
}

template <int MR>
void rest(const float* x, size_t k, const float* panel, const float* bias, float* y, size_t ldy, __mmask16 m0,
          __mmask16 m1, size_t rows) {
  if constexpr (MR > 0) {
    if (rows == MR) return tile512<MR>(x, k, panel, bias, y, ldy, m0, m1);
    rest<MR - 1>(x, k, panel, bias, y, ldy, m0, m1, rows);
  }
}

// All rows [0, rows) of one block against one panel.
void panel_rows(const float* x, size_t rows, size_t k, const float* panel, const float* bias, float* y, size_t ldy,
                size_t columns) {
  const __mmask16 mask0 = first_lanes16(columns), mask1 = first_lanes16(columns > 16 ? columns - 16 : 0);
  size_t m = 0;
  for (; m + kTileRows <= rows; m += kTileRows)
    tile512<kTileRows>(x + m * k, k, panel, bias, y + m * ldy, ldy, mask0, mask1);
  rest<kTileRows - 1>(x + m * k, k, panel, bias, y + m * ldy, ldy, mask0, mask1, rows - m);
}

}  // namespace

void f32_gemm_avx512(const float* x, size_t rows, size_t k, const float* packed, const float* bias, float* y,
                     size_t ldy, size_t n0, size_t n1) {
  size_t block = kBlockBytes / (k * sizeof(float));
  block = block < kTileRows ? kTileRows : block / kTileRows * kTileRows;
  const size_t panel_size = k * kPanel;
  for (size_t r0 = 0; r0 < rows; r0 += block) {
    const size_t r = rows - r0 < block ? rows - r0 : block;
    for (size_t c0 = n0; c0 < n1; c0 += kPanel) {
      const size_t columns = n1 - c0 < kPanel ? n1 - c0 : kPanel;
      panel_rows(x + r0 * k, r, k, packed + (c0 / kPanel) * panel_size, bias + c0, y + r0 * ldy + c0, ldy, columns);
    }
  }
}

}  // namespace arrowembed::engine

#pragma GCC pop_options
